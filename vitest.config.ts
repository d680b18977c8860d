import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'shared/**/*.test.ts', 'electron/**/*.test.ts', 'renderer/**/*.test.ts'],
    // test/faults/ is `npm run test:faults` (vitest.faults.config.ts).
    exclude: ['test/faults/**', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    // Each test file starts its own embedded central (PGlite takes a few seconds to boot); slow machines need room.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
