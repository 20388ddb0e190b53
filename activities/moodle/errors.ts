// Moodle failures, classified once: what the admin must fix (never retried)
// versus what passes by itself (retried with backoff).
import { tokenEnvName } from '../../contract';

export type MoodleFailureKind =
  | 'invalid-token'
  | 'access-denied'
  | 'web-services-disabled'
  | 'missing-capability'
  | 'invalid-parameter'
  | 'missing-record'
  | 'unexpected-response'
  | 'host-command-failed'
  | 'host-misconfigured'
  /** The course itself holds what Moodle refuses (a name with markup): the source course must be edited. */
  | 'invalid-course-data'
  | 'unsupported-release'
  | 'transient';

const FIX: Partial<Record<MoodleFailureKind, (siteId: string) => string>> = {
  'invalid-token': (siteId) =>
    `check the token in the worker environment (${tokenEnvName(siteId)}) against Site administration > Server > Web services > Manage tokens`,
  'access-denied': () =>
    'add the function to the external service of this token (Site administration > Server > Web services > External services)',
  'web-services-disabled': () => 'enable web services and the REST protocol on the Moodle site',
  'missing-capability': () => "give the token's user the capability named in the message",
  'host-misconfigured': () => 'fix the site\'s "cli" or "staging" settings in the worker config',
  'unsupported-release': () => 'archive from and to Moodle 4.1 to 5.0 (upgrade the site first), or remove the site from the session',
};

const NON_RETRYABLE = new Set<MoodleFailureKind>([
  'invalid-token',
  'access-denied',
  'web-services-disabled',
  'missing-capability',
  'invalid-parameter',
  'missing-record',
  'unexpected-response',
  'host-misconfigured',
  'invalid-course-data',
  'unsupported-release',
]);

export class MoodleError extends Error {
  override readonly name = 'MoodleError';
  readonly retryable: boolean;

  constructor(
    readonly kind: MoodleFailureKind,
    readonly siteId: string,
    readonly operation: string,
    detail: string,
    readonly errorcode?: string,
  ) {
    const fix = FIX[kind]?.(siteId);
    super(`${siteId}: ${operation}: ${detail}${fix ? ` (fix: ${fix})` : ''}`);
    this.retryable = !NON_RETRYABLE.has(kind);
  }
}

/** Maps Moodle's HTTP-200 error JSON; branch on errorcode, since 4.5 renamed the exception classes. */
export function classifyMoodleError(errorcode: string | undefined): MoodleFailureKind {
  switch (errorcode) {
    case 'invalidtoken':
    case 'wsaccessusersuspended':
    case 'wsaccessuserdeleted':
    case 'wsaccessusernologin':
      return 'invalid-token';
    case 'accessexception':
    case 'servicenotavailable':
      return 'access-denied';
    case 'nopermissions':
    case 'requireloginerror':
    case 'errorcoursecontextnotvalid':
    case 'criteriaerror':
      return 'missing-capability';
    case 'invalidparameter':
    case 'errorinvalidparam':
      return 'invalid-parameter';
    case 'invalidrecord':
    case 'invalidcourseid':
    case 'unknowcategory':
      return 'missing-record';
    case 'sitemaintenance':
    case 'categoryidnumbertaken': // a concurrent create won the race; the retry finds it
      return 'transient';
    default:
      // dml_read_exception, generalexceptionmessage and the unknown: retry, bounded by the retry policy.
      return 'transient';
  }
}
