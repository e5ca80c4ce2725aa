import { describe, expect, it } from 'vitest';
import { parseTraceSpec } from '../trace-spec.js';
import { planTrace } from './trace-plan.js';

describe('planTrace', () => {
  it('rejects more label names than the map has key positions, naming the map and its key', () => {
    const spec = parseTraceSpec({
      program: 'tracepoint:raw_syscalls:sys_enter { @calls[comm, pid] = count(); @all = count(); }',
      maps: { '@calls': { labels: ['comm', 'pid', 'cpu'] } },
    });
    expect(() => planTrace(spec)).toThrow(
      'spec.maps["@calls"].labels: 3 label names (comm, pid, cpu) for a key of 2 positions (comm, pid); give one name per key position',
    );
    const keyless = parseTraceSpec({
      program: 'tracepoint:raw_syscalls:sys_enter { @all = count(); }',
      maps: { '@all': { labels: ['comm'] } },
    });
    expect(() => planTrace(keyless)).toThrow(
      'spec.maps["@all"].labels: 1 label names (comm) for a key of no positions (the map has no key)',
    );
  });

  it('accepts as many label names as key positions, and counts the probes ktrace adds', () => {
    const plan = planTrace(
      parseTraceSpec({
        program: 'tracepoint:raw_syscalls:sys_enter { @calls[comm, pid] = count(); @t[tid] = nsecs; }',
        maps: { '@calls': { labels: ['name', 'id'] } },
      }),
    );
    expect(plan.instrumented.exported).toEqual(['@calls']);
    // An interval probe for the print, and an END of its own to clear @t.
    expect(plan.instrumented.addedProbes).toBe(2);
    expect(plan.instrumented.probes).toEqual(['tracepoint:raw_syscalls:sys_enter']);
  });
});
