import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults` (issue 8): fault injection, load and hostile input. Kept out of `npm test` because it takes
 * longer (kills, restarts, a two-minute load) and loads the machine; CI runs both.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/support/faults-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // One file at a time: load figures and kill timings mean nothing when two heavy files share two cores.
    fileParallelism: false,
  },
});
