// One course's state and rules, as a plain class: which phases are left (a
// retry resumes at the failed phase, an earlier run's work is not redone),
// what it learned, where it stands for the operator, what it waits for, and
// what the operator decided after a failure. archiveCourse drives it with
// activities and timers; the unit tests drive it without Temporal.
import { PHASES, phaseIndex, type CoursePhase, type PhaseActivityName, type PhaseName } from './phases';
import type { CourseDecision, CourseFacts, CourseFailure, CourseOutcome, CourseStatus } from './types';

/** Archives in a row that find the source changed before the course fails (it stays on the source). */
export const MAX_ARCHIVES_WHILE_EDITED = 3;

/** Why an archive must be made again, from what its steps learned: its source changed, or the archive it resumed is gone. */
export const redoReasonOf = (facts: CourseFacts): string | undefined => facts.sourceChanged ?? facts.archiveLost;

export interface CourseProgress {
  courseId: number;
  phase: PhaseName | 'pending' | 'done';
  step?: PhaseActivityName;
  phaseStartedAt?: string;
  status: CourseStatus | 'running';
  /** Times the operator sent this course back after a failure. */
  retries: number;
  /** Times it was archived again because its source changed during the archive (since the last retry). */
  rearchives: number;
  /** A failed course waits for `retry` or `skip` until then. */
  decisionDeadline?: string;
  /** Set while it holds before `phase`: what it waits for. */
  waitingFor?: string;
  facts: CourseFacts;
  failure?: CourseFailure;
}

export class CourseState {
  readonly facts: CourseFacts = { phaseTimes: {} };
  readonly progress: CourseProgress;
  /** Held by the session's drain: it waits at the next phase boundary. */
  held = false;
  private decision: CourseDecision | undefined;
  /** The first phase this attempt runs: a retry starts at the phase that failed. */
  private from = 0;

  /** `phases`: the table its run follows (a course started by an earlier release replays EARLIER_PHASES). */
  constructor(
    readonly courseId: number,
    private readonly phases: readonly CoursePhase[] = PHASES,
  ) {
    this.progress = { courseId, phase: 'pending', status: 'running', retries: 0, rearchives: 0, facts: this.facts };
  }

  /** The operator's decision counts only while the course is failed. */
  decide(decision: CourseDecision): void {
    if (this.progress.status === 'failed') this.decision = decision;
  }

  get decided(): boolean {
    return this.decision !== undefined;
  }

  /** The phases this attempt runs, in order: from the failed one on a retry, none that an earlier run
   * did (prepare learns that as it runs: read lazily), and none after prepare found nothing to do. */
  *phasesToRun(): Generator<CoursePhase> {
    for (const phase of this.phases.slice(this.from)) {
      if (this.skipping) return;
      const resumeAt = this.facts.resumeAt;
      if (!resumeAt || phaseIndex(phase.name) >= phaseIndex(resumeAt)) yield phase;
    }
  }

  enterPhase(phase: PhaseName): void {
    this.progress.phase = phase;
    this.progress.step = undefined;
  }

  phaseStarted(now: number): void {
    this.progress.phaseStartedAt = new Date(now).toISOString();
  }

  enterStep(step: PhaseActivityName): void {
    this.progress.step = step;
  }

  /** What a step returned joins what the course knows. */
  learned(out: CourseFacts): void {
    Object.assign(this.facts, out);
  }

  phaseEnded(phase: PhaseName, started: number, now: number): void {
    this.facts.phaseTimes![phase] = [started, now];
  }

  /**
   * The live source changed during the archive (a teacher edited it), or the archive it resumed is gone: archive it
   * again from prepare, which makes a new version; what this attempt learned no longer holds. Too many times in a row, and it fails instead: it stays
   * in production, and the operator retries it once its teachers are done (a retry starts at prepare).
   * Returns the failure to throw then.
   */
  startOver(): string | undefined {
    const reason = this.redoReason ?? 'the source changed';
    const lostVersion = this.facts.archiveLost ? this.facts.archiveVersion : undefined;
    this.restart(lostVersion !== undefined ? { lostVersion } : {});
    this.enterPhase('prepare');
    if (++this.progress.rearchives >= MAX_ARCHIVES_WHILE_EDITED)
      return `it changed during each of its last ${MAX_ARCHIVES_WHILE_EDITED} archives (last: ${reason}); it stays on the source. Retry it once its teachers are done editing`;
    this.facts.note = `archived again: ${reason}`;
    return undefined;
  }

  /** Another run holds the course and runs: this one leaves it (skipped, naming that run). */
  leaveTo(holder: string): void {
    this.facts.skipReason = `archived by another run right now (${holder}): one run per course at a time`;
  }

  /** The run that held the course no longer runs: prepare again, taking the course over from it. */
  takeOverFrom(holder: string): void {
    this.restart({ takeOverFrom: holder });
  }

  /** From prepare again, knowing only `carried`: what this attempt learned no longer holds. */
  private restart(carried: CourseFacts): void {
    for (const k of Object.keys(this.facts) as (keyof CourseFacts)[]) delete this.facts[k];
    Object.assign(this.facts, { phaseTimes: {}, ...carried });
    this.from = 0;
  }

  /** Why this archive must be made again (its source changed, or the archive it resumed is gone), if so. */
  get redoReason(): string | undefined {
    return redoReasonOf(this.facts);
  }

  /** Prepare found nothing to do (already archived): the remaining phases are not run. */
  get skipping(): boolean {
    return this.facts.skipReason !== undefined;
  }

  waitFor(what: string | undefined): void {
    this.progress.waitingFor = what;
  }

  setStatus(status: CourseProgress['status']): void {
    this.progress.status = status;
  }

  /** All phases ran: succeeded, or skipped when prepare found it already archived. */
  completed(): CourseOutcome {
    this.progress.phase = 'done';
    this.setStatus(this.skipping ? 'skipped' : 'succeeded');
    return this.outcome();
  }

  /** A step failed: the course waits for the operator until the deadline. The phase stays the failed one. */
  failed(failure: CourseFailure, deadline: number): CourseOutcome {
    this.progress.failure = failure;
    this.progress.decisionDeadline = new Date(deadline).toISOString();
    this.setStatus('failed');
    return this.outcome();
  }

  /** Applies the operator's decision, if any: 'retry' runs again from the failed phase, 'skip' closes it. */
  applyDecision(): CourseDecision | undefined {
    const decision = this.decision;
    const failure = this.progress.failure!;
    this.decision = undefined;
    this.progress.decisionDeadline = undefined;
    if (decision === 'retry') {
      this.progress.retries++;
      this.progress.rearchives = 0;
      this.progress.failure = undefined;
      this.from = phaseIndex(failure.phase as PhaseName);
      this.setStatus('running');
    } else if (decision === 'skip') {
      this.facts.skipReason = `skipped by the operator after ${failure.phase} failed: ${failure.message}`;
      this.setStatus('skipped');
    }
    return decision;
  }

  /** How the course stands, for its session: cancelled courses say so, failed ones carry their failure. */
  outcome(): CourseOutcome {
    const status = this.progress.status === 'running' ? 'failed' : this.progress.status;
    return {
      courseId: this.courseId,
      status,
      ...(status === 'failed' && this.progress.failure ? { failure: this.progress.failure } : {}),
      phaseSeconds: this.phaseSeconds(),
    };
  }

  /** Where it stands, for the Web UI's "current details" (Temporal markdown): its phase and step, the MB it moved,
   * what it waits for, its failure. Read by the UI when it shows the course: no event is written for it. */
  currentDetails(): string {
    const p = this.progress;
    const f = this.facts;
    const mb = (n?: number) => (n === undefined ? undefined : `${(n / 1e6).toFixed(1)} MB`);
    const lines = [
      p.status !== 'running'
        ? `**${p.status}**${f.shortname ? ` · ${f.shortname}` : ''}`
        : `**${p.phase}**${p.step ? ` · ${p.step}` : ''}${p.phaseStartedAt ? ` · since ${p.phaseStartedAt}` : ''}${f.shortname ? ` · ${f.shortname}` : ''}`,
      ...(p.waitingFor ? [`waiting for ${p.waitingFor}`] : []),
      ...(f.mbzBytes !== undefined
        ? [`backup ${mb(f.mbzBytes)}${f.transferredBytes !== undefined ? `, ${mb(f.transferredBytes)} moved` : ''}`]
        : []),
      ...(p.failure ? [`failed in ${p.failure.phase}: ${p.failure.message}`] : []),
      ...(p.decisionDeadline ? [`retry or skip before ${p.decisionDeadline}`] : []),
      ...(f.skipReason ? [`skipped: ${f.skipReason}`] : []),
      ...(f.note ? [f.note] : []),
    ];
    return lines.join('  \n');
  }

  /** Seconds each phase it ran took: what the session's predictor learns from. */
  phaseSeconds(): Partial<Record<PhaseName, number>> {
    return Object.fromEntries(Object.entries(this.facts.phaseTimes ?? {}).map(([p, [a, b]]) => [p, (b - a) / 1000]));
  }
}
