// Names every layer agrees on: workflow ids, task queues, the environment
// variable of a site's token. Each comes with its builder and its parser, so
// no layer slices a string by hand.

/** Site and storage ids name queues (site/<id>) and environment variables. */
export const SITE_ID = /^[a-z][a-z0-9_-]{0,31}$/;

/** A session name an operator gives: it names staging folders and workflow ids. */
export const SESSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Any session's name as it names folders and files: an operator's, or a scheduled session's (its schedule id and
 * fire time, e.g. "vintage-prod-2026-07-01T18:00:00Z"). Never a path: no "/", never "." or "..". */
export const SESSION_FOLDER = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

const SESSION_PREFIX = 'archive-session/';
const COURSE_PREFIX = 'archive-course/';
const SITE_QUEUE_PREFIX = 'site/';

export const sessionWorkflowId = (session: string) => `${SESSION_PREFIX}${session}`;

/** The session a session workflow id names; undefined for any other id (a schedule may add its own suffix). */
export const sessionOfWorkflowId = (workflowId: string): string | undefined =>
  workflowId.startsWith(SESSION_PREFIX) ? workflowId.slice(SESSION_PREFIX.length) : undefined;

export const courseWorkflowId = (session: string, courseId: number) => `${COURSE_PREFIX}${session}/${courseId}`;

/** The session and course a course workflow id names; undefined for any other id. */
export function parseCourseWorkflowId(workflowId: string): { session: string; courseId: number } | undefined {
  const m = /^archive-course\/(.+)\/(\d+)$/.exec(workflowId);
  return m ? { session: m[1], courseId: Number(m[2]) } : undefined;
}

/** The task queue of a Moodle host or a storage host: its admin scripts and staging files. */
export const siteQueue = (siteId: string) => `${SITE_QUEUE_PREFIX}${siteId}`;

/** The site or storage id a site queue names; undefined for the main queue or any other. */
export const siteOfQueue = (queue: string): string | undefined =>
  queue.startsWith(SITE_QUEUE_PREFIX) ? queue.slice(SITE_QUEUE_PREFIX.length) : undefined;

/** Where a worker finds a site's web-service token unless the config names another variable. */
export const tokenEnvName = (siteId: string) => `MOODLE_TOKEN_${siteId.toUpperCase().replace(/-/g, '_')}`;

/** A wwwroot as the Moodle it reaches: scheme, case, default port, trailing slash and index.php do not tell two sites apart. */
export function wwwrootKey(url: string): string {
  const u = new URL(url);
  const port = u.port && u.port !== '80' && u.port !== '443' ? `:${u.port}` : '';
  return `${u.hostname.toLowerCase()}${port}${u.pathname.replace(/\/(index\.php)?$/, '').replace(/\/+$/, '')}`;
}

/** The file, in each storage folder, that keeps the catalog ledger's head at each session's end (out of the database's reach). */
export const LEDGER_HEADS_FILE = 'ledger-heads.jsonl';
