// Turns a MoodleError into a Temporal failure: its kind becomes the failure
// type (what the Web UI shows), and what the admin must fix is never retried.
import { ApplicationFailure } from '@temporalio/activity';
import { MoodleError } from './moodle/errors';
import { scrubSecrets } from './logger';

export function asFailure(e: unknown): unknown {
  if (e instanceof MoodleError) {
    return ApplicationFailure.create({ message: scrubSecrets(e.message), type: `Moodle:${e.kind}`, nonRetryable: !e.retryable });
  }
  return e;
}

/** Wraps every activity so its failures reach Temporal classified and scrubbed. */
export function withFailureMapping<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  return Object.fromEntries(Object.entries(activities).map(([name, fn]) => [name, async (...args: never[]) => {
    try {
      return await fn(...args);
    } catch (e) {
      throw asFailure(e);
    }
  }])) as T;
}
