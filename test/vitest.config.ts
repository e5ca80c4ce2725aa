import { mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.js';

// End-to-end tests run real bpftrace and a real Prometheus: slow, and they must not overlap on the kernel.
export default mergeConfig(shared, {
  test: {
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // Stops the ktrace processes a test left running (support/ktrace-process.ts).
    setupFiles: ['./support/ktrace-cleanup.ts'],
  },
});
