// Baseline "prom-client": the same dumps through the library a Node exporter would use: each map line JSON.parsed,
// each key's counter incremented by what it gained since the last dump, and the registry's exposition printed.
import client from 'prom-client';
import { eachStdinLine } from './stdin-lines.mjs';

const counter = new client.Counter({ name: 'bpftrace_m_total', help: 'bpftrace map @m', labelNames: ['comm'] });
const previous = new Map();
function line(text) {
  if (!text.startsWith('{')) return;
  const event = JSON.parse(text);
  if (event.type !== 'map') return;
  for (const map of Object.values(event.data)) {
    for (const [key, value] of Object.entries(map)) {
      const gained = value - (previous.get(key) ?? 0);
      previous.set(key, value);
      if (gained > 0) counter.inc({ comm: key }, gained);
    }
  }
}
eachStdinLine(line, async () => {
  process.stdout.write(await client.register.metrics());
});
