// Container logs that tests write (appendLog/endLog) and clients read through pods/<name>/log: whole, tailed,
// with timestamps, or followed until the container ends or the pod is deleted.
export interface LogLine {
  time: Date;
  text: string;
}

interface Stream {
  lines: LogLine[];
  ended: boolean;
  listeners: Set<() => void>;
}

export interface LogReadOptions {
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: Date;
  timestamps?: boolean;
  limitBytes?: number;
}

function key(ns: string, pod: string, container: string): string {
  return `${ns}/${pod}/${container}`;
}

export class LogStore {
  private readonly streams = new Map<string, Stream>();

  private stream(ns: string, pod: string, container: string): Stream {
    const k = key(ns, pod, container);
    let s = this.streams.get(k);
    if (s === undefined) this.streams.set(k, (s = { lines: [], ended: false, listeners: new Set() }));
    return s;
  }

  has(ns: string, pod: string, container: string): boolean {
    return this.streams.has(key(ns, pod, container));
  }

  /** Appends text (split into lines; a trailing partial line is kept as a line of its own). */
  append(ns: string, pod: string, container: string, text: string): void {
    const s = this.stream(ns, pod, container);
    const now = new Date();
    const parts = text.split('\n');
    if (parts[parts.length - 1] === '') parts.pop();
    for (const p of parts) s.lines.push({ time: now, text: `${p}\n` });
    for (const l of [...s.listeners]) l();
  }

  /** The container has terminated: followers get the rest and the stream closes. */
  end(ns: string, pod: string, container: string): void {
    const s = this.stream(ns, pod, container);
    s.ended = true;
    for (const l of [...s.listeners]) l();
  }

  ended(ns: string, pod: string, container: string): boolean {
    return this.streams.get(key(ns, pod, container))?.ended ?? false;
  }

  /** Drops every stream of a pod (it was deleted); followers end. */
  forgetPod(ns: string, pod: string): void {
    for (const [k, s] of this.streams) {
      if (!k.startsWith(`${ns}/${pod}/`)) continue;
      s.ended = true;
      for (const l of [...s.listeners]) l();
      this.streams.delete(k);
    }
  }

  lines(ns: string, pod: string, container: string): LogLine[] {
    return [...(this.streams.get(key(ns, pod, container))?.lines ?? [])];
  }

  /** Calls `onChange` on every append or end; returns the unsubscribe function. */
  listen(ns: string, pod: string, container: string, onChange: () => void): () => void {
    const s = this.stream(ns, pod, container);
    s.listeners.add(onChange);
    return () => s.listeners.delete(onChange);
  }
}

export function render(line: LogLine, timestamps: boolean): string {
  if (!timestamps) return line.text;
  const iso = line.time.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
  return `${iso} ${line.text}`;
}

/** The lines a non-follow read (or the start of a follow) returns. */
export function selectLines(lines: readonly LogLine[], opts: LogReadOptions): LogLine[] {
  let out = [...lines];
  const since =
    opts.sinceTime ?? (opts.sinceSeconds === undefined ? undefined : new Date(Date.now() - opts.sinceSeconds * 1000));
  if (since !== undefined) out = out.filter((l) => l.time >= since);
  if (opts.tailLines !== undefined) out = opts.tailLines === 0 ? [] : out.slice(-opts.tailLines);
  return out;
}
