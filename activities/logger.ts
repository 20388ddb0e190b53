// The one logger. Tokens never reach a log line: known secret fields are
// redacted, and any wstoken=/token= query string is masked in messages.
import pino, { type Logger } from 'pino';

const TOKEN_IN_TEXT = /((?:ws)?token=)[^&\s"']+/gi;

export const scrubSecrets = (text: string) => text.replace(TOKEN_IN_TEXT, '$1[REDACTED]');

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    redact: { paths: ['token', '*.token', 'wstoken', '*.wstoken', 'sites.*.token', 'headers.authorization'], censor: '[REDACTED]' },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>);
      },
    },
    formatters: { level: (label) => ({ level: label }) },
  }, destination);
}
