// Periodic -f json dumps of one map as bpftrace 0.2x prints them (`{"type": "map"|"hist", "data": {"@m": {...}}}`),
// written to a file a slice at a time (a dump of a million histogram keys is a 150 MB line): cumulative values that
// grow from dump to dump, as a real count() or hist() map does.
import { closeSync, openSync, writeSync } from 'node:fs';

export type DumpKind = 'count' | 'hist';

/** hist() keys have these log2 buckets ([256, 512) … [1024, 2048)): 4 bounds with the lower edge, 6 lines a key. */
const HIST_POWERS = [8, 9, 10];

function keyName(k: number): string {
  return `proc-${k}`;
}

/** The program whose dumps these are (for `--program`: the map's kind and its key's label, `comm`). */
export function programOf(kind: DumpKind): string {
  return `tracepoint:raw_syscalls:sys_enter { @m[comm] = ${kind === 'count' ? 'count()' : 'hist(args.id)'}; }\n`;
}

/** Writes `dumps` dumps of a `keys`-key map named @m to `path`. */
export function writeDumps(path: string, kind: DumpKind, keys: number, dumps: number): void {
  const fd = openSync(path, 'w');
  try {
    for (let d = 1; d <= dumps; d++) {
      writeSync(fd, `{"type": "${kind === 'count' ? 'map' : 'hist'}", "data": {"@m": {`);
      let slice = '';
      for (let k = 0; k < keys; k++) {
        const value = (k % 1000) + 1 + d * 10;
        const entry =
          kind === 'count'
            ? `"${keyName(k)}": ${value}`
            : `"${keyName(k)}": [${HIST_POWERS.map((p, i) => `{"min": ${2 ** p}, "max": ${2 ** (p + 1) - 1}, "count": ${value + i}}`).join(', ')}]`;
        slice += k === 0 ? entry : `, ${entry}`;
        if (slice.length > 1 << 20) {
          writeSync(fd, slice);
          slice = '';
        }
      }
      writeSync(fd, `${slice}}}}\n`);
    }
  } finally {
    closeSync(fd);
  }
}
