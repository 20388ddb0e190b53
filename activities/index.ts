// All activities, built from their dependencies (sites config, catalog).
import type { ArchiverConfig } from '../contract';
import { DISCARD_STEPS, PHASES, type PhaseActivityName } from '../workflows/phases';
import type { CourseFacts, PhaseRequest } from '../workflows/types';
import { backupActivities } from './backup';
import { catalogActivities, type Catalog } from './catalog';
import { cleanupActivities } from './cleanup';
import { doctorActivities } from './doctor';
import { expireActivities } from './expire';
import { withFailureMapping } from './failures';
import { ledgerActivities } from './ledger';
import { notifyActivities } from './notify';
import { postprocessActivities } from './postprocess';
import { prepareActivities } from './prepare';
import { restoreActivities } from './restore';
import { selectActivities } from './select';
import { siteCheckActivities } from './site-check';
import { overlapActivities, type SessionRegistry } from './overlaps';
import { Sites } from './sites';
import { liveFingerprint } from './source-fingerprint';
import { transportActivities } from './transport';
import { runningSteps } from './step-runs';
import { tellSessionActivities } from './tell-session';

/** What the phase table asks of activities: each step's activity takes the course and its facts, and returns what it learned. */
export type PhaseStepActivities = Record<PhaseActivityName, (req: PhaseRequest) => Promise<CourseFacts>>;

const STEP_NAMES = [...new Set([...PHASES, { steps: DISCARD_STEPS }].flatMap((p) => p.steps.map((s) => s.activity)))];

/** Without a Temporal client (tests that call activities directly): no session is known, none can be told. */
const NO_SESSIONS: SessionRegistry = {
  running: async () => [],
  signal: async () => {
    throw new Error('this worker has no Temporal client to signal a session with');
  },
};

/** `sessions`: the running sessions, from Temporal (the main worker's client). */
export function createActivities(config: ArchiverConfig, catalog: Catalog, sessions: SessionRegistry = NO_SESSIONS) {
  const sites = new Sites(config);
  const mapped = withFailureMapping({
    ...siteCheckActivities(sites),
    ...overlapActivities(sites, sessions),
    ...doctorActivities(sites),
    ...selectActivities(sites),
    ...prepareActivities(sites, catalog),
    ...backupActivities(sites),
    ...transportActivities(sites),
    ...restoreActivities(sites),
    ...postprocessActivities(sites, catalog),
    ...cleanupActivities(sites, catalog),
    ...catalogActivities(catalog, (siteId, courseId) => liveFingerprint(sites.moodle(siteId), courseId)),
    ...expireActivities(sites, catalog),
    ...notifyActivities(config, catalog),
    ...ledgerActivities(catalog),
    ...tellSessionActivities(sessions),
  });
  // A phase table row naming an activity that is missing here, or has another shape, is a compile error.
  const table: PhaseStepActivities = mapped;
  const steps = Object.fromEntries(STEP_NAMES.map((n) => [n, table[n]])) as PhaseStepActivities;
  return { ...mapped, ...runningSteps(steps, (course, entries) => mapped.recordSteps({ course, steps: entries })) };
}

export type Activities = ReturnType<typeof createActivities>;
