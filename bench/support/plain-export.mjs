// Baseline "plain node": what a hand-written exporter of the same dumps does at the least: split stdin into lines,
// JSON.parse each map line, keep each key's latest count, and print one counter line per key (label value escaped).
import { eachStdinLine } from './stdin-lines.mjs';

const latest = new Map();
function line(text) {
  if (!text.startsWith('{')) return;
  const event = JSON.parse(text);
  if (event.type !== 'map') return;
  for (const map of Object.values(event.data)) for (const [key, value] of Object.entries(map)) latest.set(key, value);
}
eachStdinLine(line, () => {
  const escape = (v) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  let out = '# HELP bpftrace_m_total bpftrace map @m\n# TYPE bpftrace_m_total counter\n';
  for (const [key, value] of latest) out += `bpftrace_m_total{comm="${escape(key)}"} ${value}\n`;
  process.stdout.write(out);
});
