// The one logger. Tokens never reach a log line: known secret fields are
// redacted, any wstoken=/token= query string is masked, and the tokens the
// worker was given are masked wherever they appear, nested objects included.
import pino, { type Logger } from 'pino';

const TOKEN_IN_TEXT = /((?:ws)?token=)[^&\s"']+/gi;

export const scrubSecrets = (text: string) => text.replace(TOKEN_IN_TEXT, '$1[REDACTED]');

/** Masks secrets in every string of a log argument, however deep. */
function scrubDeep(value: unknown, secrets: string[], depth = 0): unknown {
  if (typeof value === 'string') return secrets.reduce((t, s) => t.split(s).join('[REDACTED]'), scrubSecrets(value));
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error)
    return { type: value.name, message: scrubDeep(value.message, secrets, depth + 1), stack: scrubDeep(value.stack, secrets, depth + 1) };
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, secrets, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, secrets, depth + 1)]));
}

export function createLogger(
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
  secrets: string[] = [],
): Logger {
  const known = secrets.filter((s) => s.length >= 8);
  return pino(
    {
      level,
      redact: { paths: ['token', '*.token', 'wstoken', '*.wstoken', 'sites.*.token', 'headers.authorization'], censor: '[REDACTED]' },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => scrubDeep(a, known)) as Parameters<typeof method>);
        },
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
