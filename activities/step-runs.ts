// A phase's steps as the course workflow runs them (workflows/phases.ts
// stepRuns). A step called with `andThen` runs the phase's next steps on the
// same host in the same task, stopping where one finds the archive must be
// made again. A step called with `ledger` (a local activity on the main
// worker) first writes the steps done elsewhere to the ledger, then its own.
import { ApplicationFailure } from '@temporalio/common';
import { redoReasonOf } from '../workflows/course-state';
import type { PhaseActivityName } from '../workflows/phases';
import type { CourseFacts, CourseInput, PhaseRequest, StepRecord, StepResult } from '../workflows/types';
import { withHeartbeats } from './heartbeat';

type Step = (req: PhaseRequest) => Promise<CourseFacts>;
export type StepRunResult = CourseFacts & { stepsRun?: StepResult[] };
/** What a failed run of steps carries in its failure's details: the steps before the one that failed. */
export interface StepsDone {
  stepsRun: StepResult[];
}

export function runningSteps<N extends PhaseActivityName>(
  steps: Record<N, Step>,
  record: (course: CourseInput, entries: StepRecord[]) => Promise<void>,
): Record<N, (req: PhaseRequest) => Promise<StepRunResult>> {
  const run =
    (first: N) =>
    async (req: PhaseRequest): Promise<StepRunResult> => {
      const { course, andThen, ledger } = req;
      if (ledger?.before.length) await record(course, ledger.before);
      const results: StepResult[] = [];
      let facts = req.facts;
      try {
        for (const [i, name] of [first, ...(andThen ?? [])].entries()) {
          const step = () => steps[name as N]({ course, facts });
          // The first step heartbeats as it always did (a transfer's offset rides on its heartbeats); the next ones on a timer.
          const learned = i === 0 ? await step() : await withHeartbeats(step);
          results.push({ activity: name, facts: learned });
          facts = { ...facts, ...learned };
          if (redoReasonOf(learned)) break;
        }
      } catch (e) {
        // The steps that did complete (a restore before its verification failed) still go into the ledger: the
        // failure carries them to the workflow, with its own type and message unchanged.
        if (!results.length || !(e instanceof ApplicationFailure)) throw e;
        throw ApplicationFailure.create({
          message: e.message,
          type: e.type ?? undefined,
          nonRetryable: e.nonRetryable ?? undefined,
          nextRetryDelay: e.nextRetryDelay,
          cause: e.cause,
          details: [{ stepsRun: results } satisfies StepsDone],
        });
      }
      if (ledger)
        await record(
          course,
          results.map((r, i) => ({ ...r, entryKey: ledger.keys[i] })),
        );
      if (!andThen) return results[0].facts;
      return { ...Object.assign({}, ...results.map((r) => r.facts)), stepsRun: results };
    };
  return Object.fromEntries(Object.keys(steps).map((name) => [name, run(name as N)])) as Record<
    N,
    (req: PhaseRequest) => Promise<StepRunResult>
  >;
}
