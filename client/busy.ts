// A query or call that times out, or finds the server busy, is not a failure
// of the command: a query waits for a worker to answer it, and on a busy
// machine that can take longer than its deadline. It is said in one line and
// tried again, with the queue named when no worker polls it (then nothing
// will answer until one is started).
import { isGrpcServiceError, type Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto; // a CommonJS package: its namespace is its default export under ESM

const BUSY_CODES: Record<number, string> = { 4: 'no answer in time', 8: 'the server is busy', 14: 'the server is unavailable' };

/** Why a call failed, when it is a busy or timed-out call worth trying again; undefined otherwise. */
export function busyReason(err: unknown): string | undefined {
  for (let e = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && BUSY_CODES[e.code]) return BUSY_CODES[e.code];
    if (/query (timed out|deadline)|deadline exceeded/i.test(e.message)) return BUSY_CODES[4];
  }
  return undefined;
}

/** Whether some worker polls the queue for workflow tasks: without one, no query is ever answered. */
export async function workerPolls(client: Client, queue: string): Promise<boolean> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (pollers ?? []).length > 0;
}

/** Waits up to `seconds` for a worker on the queue; without one, one line naming it and how to start one. */
export async function needWorker(client: Client, queue: string, seconds: number, then: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await workerPolls(client, queue))) {
    if (Date.now() >= deadline)
      throw new Error(
        `No worker polls the main queue "${queue}" (waited ${seconds} s): start one (npm run worker -- --queues ${queue}), then ${then}`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface BusyRetry {
  client: Client;
  /** What is being done, for the line: "reading session x". */
  what: string;
  /** The queue whose worker answers (named when none polls it). */
  queue: string;
  /** Where the one line goes (default: stderr). */
  say?: (line: string) => void;
  /** Give up after this long (default: never). */
  withinMs?: number;
}

/** Runs `call`; while it fails busy, says so in one line and tries again after a pause that grows to 10 s. */
export async function whileBusy<T>(opts: BusyRetry, call: () => Promise<T>): Promise<T> {
  const say = opts.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const deadline = opts.withinMs === undefined ? Infinity : Date.now() + opts.withinMs;
  for (let pause = 1000; ; pause = Math.min(pause * 2, 10_000)) {
    try {
      return await call();
    } catch (e) {
      const reason = busyReason(e);
      if (!reason) throw e;
      const polled = await workerPolls(opts.client, opts.queue).catch(() => true);
      const why = polled ? reason : `no worker polls queue "${opts.queue}": start one (moodle-archiver's worker, npm run worker)`;
      if (Date.now() + pause > deadline) throw new Error(`${opts.what}: ${why}; gave up`, { cause: e });
      say(`${opts.what}: ${why}; trying again in ${pause / 1000} s`);
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}
