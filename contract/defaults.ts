// Defaults that more than one layer reads: the workflows apply them, the CLI
// shows them in its help, the plan replays them.

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** Hard ceiling of a session's concurrency, and the default of its `maxConcurrency`. */
export const MAX_CONCURRENCY = 200;
/** How long a failed course waits for `retry` or `skip` before it closes as failed. */
export const DEFAULT_FAILURE_HOLD_HOURS = 168;
/** Courses read per selection page. */
export const DEFAULT_PAGE_SIZE = 100;
/** A session continues as new after this many course starts in one run. */
export const DEFAULT_CONTINUE_AS_NEW_AFTER = 200;
/** A course starts only if prediction × (1 + margin) fits in what is left of the window. */
export const DEFAULT_SAFETY_MARGIN = 0.25;
/** An admin script that fails is given up after this many tries, whatever the phase's retry budget. */
export const SCRIPT_ATTEMPTS = 3;
/** A session run rolls over (continue-as-new) once its history reaches either: well under the 2,000 events and
 * 512 KiB a run may grow to, leaving room for the reports that arrive while it hands over. Its replay stays short. */
export const RUN_EVENTS_BEFORE_ROLL_OVER = 1_500;
export const RUN_BYTES_BEFORE_ROLL_OVER = 384 * 1024;
