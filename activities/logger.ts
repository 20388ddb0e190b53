// The one logger. Tokens never reach a log line: known secret fields are
// redacted, any wstoken=/token= query string is masked, and the tokens the
// worker was given are masked wherever they appear, nested objects included.
import pino, { type Logger } from 'pino';

const TOKEN_IN_TEXT = /((?:ws)?token=)[^&\s"']+/gi;

export const scrubSecrets = (text: string) => text.replace(TOKEN_IN_TEXT, '$1[REDACTED]');

/** The ways a secret can stand in a message: as is, URL-encoded (a query string, a form body: + for a space),
 * JSON-escaped (Moodle's debug info), HTML-escaped (an error page). */
export function secretForms(secret: string): string[] {
  const html = secret.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);
  const url = encodeURIComponent(secret);
  const forms = [secret, url, url.replace(/%20/g, '+'), JSON.stringify(secret).slice(1, -1), html];
  // The longest first: a form that holds another is masked whole.
  return [...new Set(forms)].sort((a, b) => b.length - a.length);
}

/** Secrets too short to mask without masking ordinary words are not masked (a token is 32 characters). */
export const maskable = (secrets: (string | undefined)[]) => secrets.filter((s): s is string => !!s && s.length >= 8);

const formsOf = new WeakMap<string[], string[]>();

/** A text with every form of every secret, and any token= value, masked. */
export function scrubText(text: string, secrets: string[]): string {
  let forms = formsOf.get(secrets);
  if (!forms) formsOf.set(secrets, (forms = secrets.flatMap(secretForms)));
  return forms.reduce((t, s) => (t.includes(s) ? t.split(s).join('[REDACTED]') : t), scrubSecrets(text));
}

/** Masks secrets in every string of a value, however deep. */
export function scrubDeep(value: unknown, secrets: string[], depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error)
    return { type: value.name, message: scrubDeep(value.message, secrets, depth + 1), stack: scrubDeep(value.stack, secrets, depth + 1) };
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, secrets, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value; // a Date, a Buffer: no text of their own
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, secrets, depth + 1)]));
}

export function createLogger(
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
  secrets: string[] = [],
): Logger {
  const known = maskable(secrets);
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
