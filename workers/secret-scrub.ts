// No secret leaves an activity. A failure's message, stack, cause and details, and a result's text, lose every
// form of every secret the worker holds (a token echoed in Moodle's debug info, an HTML error page, a URL) before
// the SDK turns them into history, so no status, course show, report, webhook or mail can hold one.
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { scrubDeep, scrubText } from '../activities/logger';

function scrubError(err: unknown, secrets: string[], depth = 0): unknown {
  if (!(err instanceof Error) || depth > 8) return err;
  err.message = scrubText(err.message, secrets);
  if (err.stack) err.stack = scrubText(err.stack, secrets);
  if (err instanceof ApplicationFailure && err.details) Object.assign(err, { details: scrubDeep(err.details, secrets) as unknown[] });
  if (err.cause) scrubError(err.cause, secrets, depth + 1);
  return err;
}

export const scrubActivitySecrets =
  (secrets: string[]): ActivityInterceptorsFactory =>
  () => ({
    inbound: {
      async execute(input, next) {
        try {
          return secrets.length ? scrubDeep(await next(input), secrets) : await next(input);
        } catch (e) {
          throw scrubError(e, secrets);
        }
      },
    },
  });
