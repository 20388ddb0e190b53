// What the CLI prints from Moodle's data (names, messages) is untrusted: an escape sequence could clear the
// screen or retitle the terminal, a carriage return or a bidi override could make a line read as something else.
// Each such character is shown as its code (\u001b) instead of acting.

// C0 controls but the newline, DEL and C1; the bidi embeddings, overrides and isolates, and the direction marks.
const ACTING = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const ACTING_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const visible = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Text whose lines are ours: everything but the newline is made visible. */
export const inert = (text: string) => text.replace(ACTING, visible);

/** One cell or one value: a newline in it is made visible too, so it cannot start a row of its own. */
export const inertLine = (text: string) => text.replace(ACTING_OR_NEWLINE, visible);

const write = process.stdout.write.bind(process.stdout) as (chunk: unknown, ...rest: unknown[]) => boolean;

/** Our own terminal control (status --watch clears the screen), past inertStdout(). */
export const writeControl = (sequence: string) => write(sequence);

/** Everything this process writes to stdout goes through inert(): no command prints Moodle's data raw. */
export function inertStdout(): void {
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    write(typeof chunk === 'string' ? inert(chunk) : chunk, ...rest)) as typeof process.stdout.write;
}
