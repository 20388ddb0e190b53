// The Temporal namespace of this test worker: suites run in parallel (vitest.config.ts), and a queue
// name (site/prod) is unique only within a namespace. The global setup creates one per worker.
export const TEST_WORKERS = 4;
export const TEST_NAMESPACES = Array.from({ length: TEST_WORKERS }, (_, i) => `test-${i + 1}`);
export const testNamespace = `test-${process.env.VITEST_POOL_ID ?? '1'}`;
