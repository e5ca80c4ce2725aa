import { defineConfig } from 'vitest/config';

// Tests resolve sibling packages to their sources (the `ktrace-source` export condition),
// so a package's tests never depend on a stale build of another.
export default defineConfig({
  resolve: { conditions: ['ktrace-source'] },
  ssr: { resolve: { conditions: ['ktrace-source'], externalConditions: ['ktrace-source'] } },
});
