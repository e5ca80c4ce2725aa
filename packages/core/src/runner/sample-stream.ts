// The map samples of one trace as async iterators: every subscriber gets each sample from the moment it subscribed
// (a slow one keeps the latest 1000), and every iterator ends when the trace ends.
import type { MapSample } from '@ktrace/parser';

const MAX_QUEUED = 1000;

interface Subscriber {
  queue: MapSample[];
  wake: (() => void) | undefined;
}

export class SampleStream {
  private readonly subscribers = new Set<Subscriber>();
  private ended = false;

  push(sample: MapSample): void {
    for (const s of this.subscribers) {
      s.queue.push(sample);
      if (s.queue.length > MAX_QUEUED) s.queue.shift();
    }
    this.wakeAll();
  }

  /** No more samples: iterators drain their queue and end. */
  end(): void {
    this.ended = true;
    this.wakeAll();
  }

  subscribe(): AsyncIterableIterator<MapSample> {
    const sub: Subscriber = { queue: [], wake: undefined };
    this.subscribers.add(sub);
    const iterator: AsyncIterableIterator<MapSample> = {
      next: async (): Promise<IteratorResult<MapSample>> => {
        for (;;) {
          const sample = sub.queue.shift();
          if (sample !== undefined) return { value: sample, done: false };
          if (this.ended) {
            this.subscribers.delete(sub);
            return { value: undefined, done: true };
          }
          await new Promise<void>((wake) => {
            sub.wake = wake;
          });
        }
      },
      return: (): Promise<IteratorResult<MapSample>> => {
        this.subscribers.delete(sub);
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  private wakeAll(): void {
    for (const s of this.subscribers) {
      const wake = s.wake;
      s.wake = undefined;
      wake?.();
    }
  }
}
