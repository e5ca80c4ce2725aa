// Preloaded (node --import) into a measured process: at exit it writes its own CPU time (every thread) and peak
// RSS to fd 3, which the bench reads. Node cannot ask the kernel for a child's usage, so the child reports it.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const usage = process.resourceUsage();
  try {
    writeSync(
      3,
      `${JSON.stringify({ cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssKiB: usage.maxRSS })}\n`,
    );
  } catch {
    // not run by the bench: no fd 3
  }
});
