import { basename } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { TEST_WORKERS } from './test/namespace.ts';

// The slowest files first, whatever vitest's timing cache knows: a fresh clone (CI) has none, and
// the fault suite (4 of the run's 5 to 6 minutes) started late made the run 70-90 s longer.
const SLOWEST_FIRST = ['faults', 'transport', 'quiet-hours', 'plan', 'session', 'scale', 'schedule', 'cold-storage', 'operator', 'cancel'];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = SLOWEST_FIRST.indexOf(basename(f.moduleId, '.test.ts'));
      return i < 0 ? SLOWEST_FIRST.length : i;
    };
    // The others keep the cache's order (a stable sort).
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/moodle/**', 'node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    // One Temporal dev server for all; four files at once. Most suites wait (heartbeat timeouts, outages,
    // window timers, transfer rates) more than they compute, and every suite has its own sites, queues
    // and session names, so they share the machine as production's sessions do.
    fileParallelism: true,
    sequence: { sequencer: SlowestFirst },
    // One module cache per test worker, not per file: each file re-imported the SDK, Prisma and the
    // project (132 s of the run's import time). Suites keep no module state between them.
    isolate: false,
    maxWorkers: TEST_WORKERS,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
