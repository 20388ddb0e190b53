// Turns a MoodleError into a Temporal failure: its kind becomes the failure
// type (what the Web UI shows), and what the admin must fix is never retried.
// An admin script that fails is tried SCRIPT_ATTEMPTS times, fewer than a
// phase's retries: those are sized to wait out a site that is down, while a
// backup that fails three times fails for a reason a fourth will not change.
import { activityInfo, ApplicationFailure } from '@temporalio/activity';
import { MoodleError } from './moodle/errors';
import { scrubSecrets } from './logger';
import { moodleFailureType, SCRIPT_ATTEMPTS } from '../contract';

export function asFailure(e: unknown, attempt = 1): unknown {
  if (e instanceof MoodleError) {
    const lastTry = e.kind === 'host-command-failed' && attempt >= SCRIPT_ATTEMPTS;
    return ApplicationFailure.create({
      message: scrubSecrets(e.message) + (lastTry ? ` (failed ${attempt} times)` : ''),
      type: moodleFailureType(e.kind),
      nonRetryable: !e.retryable || lastTry,
    });
  }
  return e;
}

/** Wraps every activity so its failures reach Temporal classified and scrubbed. */
export function withFailureMapping<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: never[]) => {
        try {
          return await fn(...args);
        } catch (e) {
          throw asFailure(e, activityInfo().attempt);
        }
      },
    ]),
  ) as T;
}
