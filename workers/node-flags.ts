// How node runs a worker process (npm run worker, the rig's workers). Left to itself, V8 sizes each isolate's heap
// for the machine (about 4 GB here) and lets it grow far before collecting: a main worker reached 560 MB at 300
// courses with a live heap under 140 MB. Capped, it collects sooner at no measurable CPU cost (bench scale
// section). The cap holds for each isolate: the activities' and the workflows' thread.
// --optimize-for-size and a small young generation trade a little speed for memory, which a worker that mostly
// waits has to spare.
export const WORKER_NODE_FLAGS = ['--max-old-space-size=256', '--max-semi-space-size=1', '--optimize-for-size'] as const;

// glibc gives each thread that allocates an arena of its own (up to 8 per core), and a worker has many: the SDK's
// Rust core, libsql, V8's helpers. Memory freed in one stays held by it. Two arenas took 50 MB off a main worker's
// peak at no CPU cost (bench scale section, 200 courses: 320 -> 268 MB). glibc reads it only when a process starts,
// so it is set where a worker process is started: npm run worker, the rig, a service unit.
export const WORKER_ENV = { MALLOC_ARENA_MAX: '2' } as const;
