// The program both CPU-per-dump benches run (core.bench.ts in-process, run-process.bench.ts as a whole process).

/** Fills a `keys`-key map 100 keys per millisecond tick (loops that large do not pass 0.17's verifier), then stays still. */
export function fillProgram(kind: 'count' | 'hist', keys: number): string {
  const update = kind === 'count' ? '@m[@n] = count();' : '@m[@n] = hist(@n);';
  return `interval:ms:1 /@n < ${keys}/ { unroll(100) { ${update} @n = @n + 1; } }\n`;
}
