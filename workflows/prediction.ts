// How long a course will take, before it starts: the session starts a course
// only if it fits in what is left of the window. Each phase costs a fixed
// time plus time per MB and per activity (on a real Moodle both size and
// activity count matter); the defaults are corrected, per phase and host, by
// the ratio of measured to predicted durations of the courses done so far.
import { DEFAULT_PHASE_COSTS, PHASE_NAMES, phaseQueueRoles, type PhaseCost, type PhaseName, type QueueRole } from './phases';

export { DEFAULT_PHASE_COSTS, type PhaseCost };

export type PhaseCosts = Record<PhaseName, PhaseCost>;

export interface CourseSize {
  bytes: number;
  activities: number;
}

/** Decayed sums of measured and default-predicted seconds for one phase on one host. */
export interface PhaseMeasure {
  actual: number;
  prior: number;
  samples: number;
}

/** Weight of the previous sums at each new sample: the last ten or so courses count most. */
const DECAY = 0.9;
const MB = 1_000_000;

/** The host a phase loads: its first step's queue, by site. */
export function phaseHosts(sites: { sourceSiteId: string; targetSiteId: string }): Record<PhaseName, string> {
  const host: Record<QueueRole, string> = { main: 'main', source: sites.sourceSiteId, target: sites.targetSiteId };
  return Object.fromEntries(PHASE_NAMES.map((p) => [p, host[phaseQueueRoles[p]]])) as Record<PhaseName, string>;
}

export class DurationPredictor {
  /** `measured` is mutated in place: it is the session's carried state. */
  constructor(
    private readonly costs: PhaseCosts,
    private readonly measured: Record<string, PhaseMeasure>,
    private readonly hosts: Record<PhaseName, string>,
  ) {}

  private key(phase: PhaseName): string {
    return `${phase}@${this.hosts[phase]}`;
  }

  priorSeconds(phase: PhaseName, size: CourseSize): number {
    const c = this.costs[phase];
    return c.fixedSeconds + (size.bytes / MB) * c.secondsPerMB + size.activities * c.secondsPerActivity;
  }

  /** Measured over predicted, for this phase on its host; 1 before any measurement. */
  factor(phase: PhaseName): number {
    const m = this.measured[this.key(phase)];
    return m && m.prior > 0 ? m.actual / m.prior : 1;
  }

  phaseSeconds(phase: PhaseName, size: CourseSize): number {
    return this.priorSeconds(phase, size) * this.factor(phase);
  }

  /** The whole course, or what is left of it from `fromPhase` (a retried course). */
  courseSeconds(size: CourseSize, fromPhase: PhaseName = PHASE_NAMES[0]): number {
    return PHASE_NAMES.slice(PHASE_NAMES.indexOf(fromPhase)).reduce((s, p) => s + this.phaseSeconds(p, size), 0);
  }

  /** Learns from a finished course's phase durations (phases it did not run are absent). */
  record(size: CourseSize, phaseSeconds: Partial<Record<PhaseName, number>>): void {
    for (const phase of PHASE_NAMES) {
      const actual = phaseSeconds[phase];
      if (actual === undefined || !Number.isFinite(actual) || actual < 0) continue;
      const m = this.measured[this.key(phase)] ?? { actual: 0, prior: 0, samples: 0 };
      this.measured[this.key(phase)] = {
        actual: m.actual * DECAY + actual,
        prior: m.prior * DECAY + this.priorSeconds(phase, size),
        samples: m.samples + 1,
      };
    }
  }

  /** Per phase and host: the correction in force and how many courses it rests on. */
  describe(): { phase: PhaseName; host: string; factor: number; samples: number }[] {
    return PHASE_NAMES.map((phase) => ({
      phase,
      host: this.hosts[phase],
      factor: Math.round(this.factor(phase) * 100) / 100,
      samples: this.measured[this.key(phase)]?.samples ?? 0,
    }));
  }
}

/** The defaults with a session's overrides laid over them, phase by phase. */
export function phaseCosts(overrides: Partial<Record<PhaseName, Partial<PhaseCost>>> = {}): PhaseCosts {
  return Object.fromEntries(PHASE_NAMES.map((p) => [p, { ...DEFAULT_PHASE_COSTS[p], ...overrides[p] }])) as PhaseCosts;
}
