import { describe, expect, it } from 'vitest';
import type { MapSample } from '@ktrace/parser';
import { renderLiveView } from './live-view.js';

describe('renderLiveView', () => {
  it('shows top keys by value with bars, and histograms with bucket labels', () => {
    const counts: MapSample = {
      type: 'map',
      name: '@syscalls',
      kind: 'count',
      entries: [
        { key: ['bash'], value: 10 },
        { key: ['node'], value: 40_000 },
        { key: ['sshd'], value: 20_000 },
      ],
    };
    const latency: MapSample = {
      type: 'map',
      name: '@lat_ns',
      kind: 'hist',
      entries: [
        {
          key: ['node'],
          buckets: [
            { min: 256, max: 511, count: 4 },
            { min: 512, max: 1023, count: 8 },
            { min: 1024, max: 2047, count: 2 },
          ],
        },
      ],
    };
    const lines = renderLiveView({
      header: 'ktrace · running',
      maps: new Map([
        ['@syscalls', counts],
        ['@lat_ns', latency],
      ]),
      notes: ['warn: bpftrace lost events'],
      columns: 80,
      rows: 40,
    });
    const text = lines.join('\n');
    expect(lines[0]).toBe('ktrace · running');
    expect(text).toContain('@syscalls (count) · 3 keys');
    // Sorted by value, largest first, with numbers abbreviated.
    const order = ['node', 'sshd', 'bash'].map((k) =>
      lines.findIndex((l) => l.trimStart().startsWith(k) && /[█▏▎▍▌▋▊▉]/.test(l)),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(text).toMatch(/node\s+40\.0k █+/);
    // 10 beside 40 000 is a sliver (an eighth of a cell), not a block.
    expect(text).toMatch(/bash\s+10 ▏$/m);
    expect(text).toContain('@lat_ns (hist) · 1 key');
    expect(text).toMatch(/\[512, 1K\)\s+8 \|█+\s*\|/);
    expect(text).toMatch(/\[1K, 2K\)\s+2 \|█+\s*\|/);
    expect(lines.at(-1)).toBe('warn: bpftrace lost events');
    expect(lines.every((l) => l.length <= 80)).toBe(true);
  });

  it('says it is waiting before the first dump', () => {
    expect(renderLiveView({ header: 'h', maps: new Map(), notes: [], columns: 80, rows: 24 })).toContain(
      'waiting for the first map dump…',
    );
  });

  it('keeps a kstack key (frames joined by newlines) and a multi-line note on one screen line each', () => {
    const stacks: MapSample = {
      type: 'map',
      name: '@',
      kind: 'count',
      entries: [
        { key: ['do_syscall_64+56\nentry_SYSCALL_64_after_hwframe+100'], value: 7 },
        { key: ['asm_sysvec_apic_timer_interrupt+26\nnative_safe_halt+11\ndefault_idle+9'], value: 90 },
      ],
    };
    const lines = renderLiveView({
      header: 'ktrace · running',
      maps: new Map([['@', stacks]]),
      notes: ['warn: bpftrace runtime error: Failed to probe_read\n    at line 3'],
      columns: 60,
      rows: 40,
    });
    for (const line of lines) {
      expect(line).not.toContain('\n');
      expect(line.length).toBeLessThanOrEqual(60);
    }
    expect(lines.some((l) => l.startsWith('  asm_sysvec_apic_timer') && l.includes(' 90 '))).toBe(true);
    expect(lines.at(-1)).toContain('warn: bpftrace runtime error: Failed to probe_read');
  });
});
