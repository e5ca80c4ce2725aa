// The live view of `ktrace run` on a terminal: the alternate screen redrawn as maps are dumped, every second and on
// resize; keys read in raw mode (q and Ctrl-C stop the trace, as SIGINT does); on close the normal screen is back
// and a summary of the run is printed there. Layout, rates and keys are pure modules beside this one.
import { performance } from 'node:perf_hooks';
import type { TraceHandle } from '@ktrace/core';
import type { MapSample } from '@ktrace/parser';
import { readKeys, moveView } from './live-view-keys.js';
import type { ViewPosition } from './live-view-keys.js';
import { layoutScreen } from './live-view-layout.js';
import { MapTracker } from './live-view-rates.js';
import type { MapMode } from './live-view-rates.js';
import { summaryLines } from './live-view-summary.js';
import { duration } from './live-view-text.js';

export interface LiveViewOptions {
  handle: TraceHandle;
  /** Warnings and errors to show, newest last (the caller appends to it). */
  notes: readonly string[];
  output?: NodeJS.WriteStream;
  input?: NodeJS.ReadStream;
}

export interface LiveView {
  /** Leaves the alternate screen and, once the last dump is taken in, prints the summary of the run. */
  close(): Promise<void>;
}

const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';

export function startLiveView(options: LiveViewOptions): LiveView {
  const { handle, notes } = options;
  const out = options.output ?? process.stdout;
  const input = options.input ?? process.stdin;
  const started = performance.now();
  const trackers = new Map<string, MapTracker>();
  const modes = new Map<string, MapMode>();
  let at: ViewPosition = { selected: 0, scroll: 0 };
  let page = 1;
  let closed = false;
  let pending = false;

  // The exporter decides whether a map's dumps are totals or increments; ask it, once it has seen the map.
  const modeOf = (name: string): MapMode => {
    const known = modes.get(name);
    if (known !== undefined) return known;
    for (const state of handle.exporter.store.mapStates()) {
      if (state.map !== name) continue;
      modes.set(name, state.mode);
      return state.mode;
    }
    return 'cumulative';
  };
  // Tabs in the program's order of exported maps, then any other map as it first appears.
  const ordered = (): MapTracker[] => {
    const order = handle.program.exported;
    const rank = (name: string): number => {
      const i = order.indexOf(name);
      return i < 0 ? order.length : i;
    };
    return [...trackers.values()].sort((a, b) => rank(a.name) - rank(b.name));
  };
  const size = (): { columns: number; rows: number } => ({ columns: out.columns || 80, rows: out.rows || 24 });

  const draw = (): void => {
    pending = false;
    if (closed) return;
    const s = handle.status();
    const header = `ktrace · ${s.state} ${duration(performance.now() - started)} · bpftrace ${s.bpftraceVersion} pid ${s.pid ?? '-'} · restarts ${s.restarts} · ${s.metricsUrl ?? 'no /metrics'}`;
    const screen = layoutScreen({
      header,
      maps: ordered().map((t) => t.rows()),
      notes,
      ...size(),
      ...at,
    });
    at = { selected: screen.selected, scroll: screen.scroll };
    page = screen.page;
    out.write(`\x1b[H${screen.lines.map((l) => `${l}\x1b[K`).join('\r\n')}\x1b[J`);
  };
  const soon = (): void => {
    if (pending) return;
    pending = true;
    setImmediate(draw);
  };

  const take = (sample: MapSample): void => {
    let tracker = trackers.get(sample.name);
    if (tracker === undefined) {
      tracker = new MapTracker(sample.name, sample.kind);
      trackers.set(sample.name, tracker);
    }
    tracker.ingest(sample, performance.now(), modeOf(sample.name));
    soon();
  };
  const consumed = (async () => {
    for await (const sample of handle.samples()) take(sample);
  })().catch(() => undefined);

  const onData = (chunk: Buffer | string): void => {
    for (const key of readKeys(chunk.toString())) {
      if (key === 'quit') void handle.stop().catch(() => undefined);
      else at = moveView(at, key, { maps: trackers.size, page });
    }
    draw();
  };
  const raw = input.isTTY === true;
  if (raw) {
    input.setRawMode(true);
    input.on('data', onData);
    input.resume();
  }
  const leave = (): void => {
    out.write(LEAVE);
  };
  process.on('exit', leave);
  out.on('resize', draw);
  out.write(ENTER);
  const timer = setInterval(draw, 1000);
  draw();

  return {
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      out.off('resize', draw);
      process.off('exit', leave);
      if (raw) {
        input.off('data', onData);
        input.setRawMode(false);
        input.pause();
      }
      leave();
      // The final dump may still be on its way through the sample stream when the trace is done.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([consumed, new Promise((resolve) => (bound = setTimeout(resolve, 2000)))]);
      clearTimeout(bound);
      const s = handle.status();
      const lines = summaryLines({
        title: `ktrace run ${s.state} · bpftrace ${s.bpftraceVersion} · restarts ${s.restarts}`,
        maps: ordered().map((t) => t.rows()),
        runMillis: performance.now() - started,
        columns: size().columns,
      });
      out.write(`${lines.join('\n')}\n`);
    },
  };
}
