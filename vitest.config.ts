import { defineConfig } from 'vitest/config';
import { TEST_WORKERS } from './test/namespace.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/moodle/**', 'node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    // One Temporal dev server for all; four files at once. Most suites wait (heartbeat timeouts, outages,
    // window timers, transfer rates) more than they compute, and every suite has its own sites, queues
    // and session names, so they share the machine as production's sessions do.
    fileParallelism: true,
    // One module cache per test worker, not per file: each file re-imported the SDK, Prisma and the
    // project (132 s of the run's import time). Suites keep no module state between them.
    isolate: false,
    maxWorkers: TEST_WORKERS,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
