import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bpftraceFailure } from './bpftrace-errors.js';

describe('bpftraceFailure', () => {
  it('gives the kprobe hint from the program itself when the error line names only the function, a comment before the probe or not', () => {
    const noKprobes = !['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].some((d) =>
      existsSync(`${d}/kprobe_events`),
    );
    for (const program of [
      '// count opens\nkprobe:do_sys_openat2 { @o = count(); }\n',
      '/* opens */ k:do_sys_openat2 { @o = count(); }\n',
    ]) {
      const error = bpftraceFailure('<inline>', ['ERROR: Unable to attach probe: do_sys_openat2'], 1, null, program);
      expect(error.code).toBe('KTRACE_BAD_PROGRAM');
      expect(error.message, program).toContain(
        noKprobes ? 'kprobes are not available on this kernel' : 'the probe does not exist on this kernel or binary',
      );
    }
  });
});
