import { defineConfig } from 'vitest/config';

// The real-Moodle suite (`npm run test:moodle`): one file at a time against the two real sites.
export default defineConfig({
  test: {
    include: ['test/moodle/**/*.test.ts'],
    globalSetup: ['test/moodle/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
