// Reading a Prometheus exposition as the property tests check it: its samples (name, label set, value), which
// of them are counters, and promtool's verdict on the text.

import { spawn } from 'node:child_process';

export interface Sample {
  name: string;
  labels: string;
  value: number;
}

export function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const end = brace >= 0 && brace < space ? brace : space;
    out.push({
      name: line.slice(0, end),
      labels: brace >= 0 && brace < space ? line.slice(brace, space) : '',
      value: Number(line.slice(space + 1)),
    });
  }
  return out;
}

export function promtool(bin: string, text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

/** Names of the types that hold counters: `_total` of counters, buckets and counts of histograms. */
export function counterTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1] as string, m[2] as string);
  return types;
}

export function isCounterSample(types: Map<string, string>, name: string): boolean {
  if (types.get(name) === 'counter') return true;
  for (const suffix of ['_bucket', '_count'])
    if (name.endsWith(suffix) && types.get(name.slice(0, -suffix.length)) === 'histogram') return true;
  return false;
}
