// The bundled default program of `ktrace run` (syscall rates and latency by process), embedded so the published
// package needs no files beside it. It must stay identical to examples/syscalls.bt (a test compares them).
import type { TraceSpecInput } from './trace-spec.js';

export const syscallsProgram =
  '// Syscall rates and latency by process: the program `ktrace run` runs when given none.\n// @syscalls[comm] counts every syscall entry; @syscall_latency_ns[comm] is a log2 histogram of entry→exit time.\n// @start[tid] is scratch state (not exported; ktrace clears it at exit so the final dump stays small).\ntracepoint:raw_syscalls:sys_enter\n{\n  @syscalls[comm] = count();\n  @start[tid] = nsecs;\n}\n\ntracepoint:raw_syscalls:sys_exit\n/@start[tid]/\n{\n  @syscall_latency_ns[comm] = hist(nsecs - @start[tid]);\n  delete(@start[tid]);\n}\n';

/** The spec `ktrace run` uses when given no program: examples/syscalls.yaml with the program inline. */
export function defaultTraceSpec(): TraceSpecInput {
  return {
    name: 'syscalls',
    program: syscallsProgram,
    interval: '1s',
    maps: {
      '@syscalls': { kind: 'count', labels: ['comm'], help: 'System calls entered, by process name.' },
      '@syscall_latency_ns': {
        kind: 'hist',
        labels: ['comm'],
        unit: 'ns',
        help: 'Time from syscall entry to exit, by process name.',
      },
    },
    limits: { maxSeriesPerMap: 2000 },
  };
}
