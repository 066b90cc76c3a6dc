import { defineConfig } from 'vitest/config';

// Files that open the SoftHSM2 token must not share a process: PKCS#11 library state is
// per process (PKCS11-NOTES.md pitfalls 2-3), so the pool is pinned to forks.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
