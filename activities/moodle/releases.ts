// The Moodle releases this tool is written and tested for: 4.1 (the oldest
// LTS still in use) to 5.0. Older sites lack the web services and admin
// scripts' behaviour it relies on; newer ones have not been checked yet.
import { MoodleError } from './errors';

export const SUPPORTED_RELEASES = { oldest: [4, 1], newest: [5, 0] } as const;
export const SUPPORTED_RANGE = `${SUPPORTED_RELEASES.oldest.join('.')} to ${SUPPORTED_RELEASES.newest.join('.')}`;

/** Why a release (as site info prints it, e.g. "4.5.11+ (Build: 20260501)") is not supported; undefined when it is. */
export function releaseProblem(release: string | undefined): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release ?? '');
  if (!m) return `its release is unknown (site info said "${release ?? ''}")`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const at = (v: readonly [number, number]) => major * 100 + minor - (v[0] * 100 + v[1]);
  if (at(SUPPORTED_RELEASES.oldest) < 0 || at(SUPPORTED_RELEASES.newest) > 0)
    return `it runs Moodle ${release}; this tool supports ${SUPPORTED_RANGE}`;
  return undefined;
}

export function assertSupportedRelease(siteId: string, release: string | undefined): void {
  const problem = releaseProblem(release);
  if (problem) throw new MoodleError('unsupported-release', siteId, 'core_webservice_get_site_info', problem);
}
