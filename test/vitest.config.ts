import { defineConfig } from 'vitest/config';

// End-to-end tests run real bpftrace and a real Prometheus: slow, and they must not overlap on the kernel.
export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
