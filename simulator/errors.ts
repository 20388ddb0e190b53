// Moodle's web-service error: HTTP 200 with {exception, errorcode, message[, debuginfo]}.
import type { SiteSettings } from './state';

/** Classes that Moodle 4.5 moved into \core\exception\ (MDL-81919); others stay global. */
const NAMESPACED_IN_45 = new Set([
  'moodle_exception',
  'invalid_parameter_exception',
  'required_capability_exception',
  'coding_exception',
  'invalid_response_exception',
  'require_login_exception',
]);

export class MoodleException extends Error {
  constructor(
    readonly exceptionClass: string,
    readonly errorcode: string,
    message: string,
    readonly debuginfo?: string,
  ) {
    super(message);
  }
}

export function errorBody(err: MoodleException, settings: SiteSettings): Record<string, string> {
  const cls =
    settings.namespacedExceptions && NAMESPACED_IN_45.has(err.exceptionClass)
      ? `core\\exception\\${err.exceptionClass}`
      : err.exceptionClass;
  const body: Record<string, string> = { exception: cls, errorcode: err.errorcode, message: err.message };
  if (settings.debug && err.debuginfo !== undefined) body.debuginfo = err.debuginfo;
  return body;
}

export const invalidToken = () => new MoodleException('moodle_exception', 'invalidtoken', 'Invalid token - token not found');

export const accessDenied = (fn: string) =>
  new MoodleException(
    'webservice_access_exception',
    'accessexception',
    'Access control exception',
    `Access to the function ${fn}() is not allowed.\n There could be multiple reasons for this: 1. The service linked to the user token does not contain the function.`,
  );

export const missingRecord = (table: string, sql: string, id: unknown) =>
  new MoodleException(
    'dml_missing_record_exception',
    'invalidrecord',
    `Can't find data record in database table ${table}.`,
    `${sql}\n[array (\n  0 => ${typeof id === 'string' ? `'${id}'` : String(id)},\n)]`,
  );

export const invalidParameter = (debuginfo: string) =>
  new MoodleException('invalid_parameter_exception', 'invalidparameter', 'Invalid parameter value detected', debuginfo);

export const databaseReadError = () =>
  new MoodleException('dml_read_exception', 'dmlreadexception', 'Error reading from database', 'server closed the connection unexpectedly');

export const siteMaintenance = () =>
  new MoodleException('moodle_exception', 'sitemaintenance', 'The site is undergoing maintenance and is currently not available');

export const missingCapability = (capability: string) =>
  new MoodleException(
    'required_capability_exception',
    'nopermissions',
    `Sorry, but you do not currently have permissions to do that (${capability}).`,
  );
