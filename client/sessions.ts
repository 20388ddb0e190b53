// The small client library the CLI, the demo and the tests share: start a
// session, read its progress, pause and resume it.
import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { pauseSignal, progressQuery, resumeSignal } from '../workflows/messages';
import { PHASE_NAMES, sessionWorkflowId } from '../workflows/phases';
import { ArchivePhase, ArchiveSession, ArchiveVintage } from '../workflows/search-attributes';
import type { SessionProgress } from '../workflows/session-state';
import type { SessionInput } from '../workflows/types';
import type { ArchiverConfig } from '../workers/config';
import type { archiveSession } from '../workflows';

export async function startSession(client: Client, config: ArchiverConfig, input: SessionInput) {
  return client.workflow.start<typeof archiveSession>('archiveSession', {
    workflowId: sessionWorkflowId(input.session),
    taskQueue: config.mainQueue,
    args: [input],
    // Starting a session that is already running is a mistake, not a second session.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    typedSearchAttributes: [
      { key: ArchiveSession, value: input.session },
      { key: ArchiveVintage, value: input.vintage },
    ],
  });
}

export interface SessionStatus extends SessionProgress {
  /** Running courses per phase, from the visibility store (the children's ArchivePhase). */
  runningByPhase: Record<string, number>;
}

export async function sessionStatus(client: Client, session: string): Promise<SessionStatus> {
  const progress = await client.workflow.getHandle(sessionWorkflowId(session)).query(progressQuery);
  const runningByPhase: Record<string, number> = Object.fromEntries(PHASE_NAMES.map((p) => [p, 0]));
  const query = `WorkflowType = 'archiveCourse' AND ArchiveSession = '${session.replace(/'/g, "\\'")}' AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query })) {
    const phase = wf.typedSearchAttributes.get(ArchivePhase);
    if (phase) runningByPhase[phase] = (runningByPhase[phase] ?? 0) + 1;
  }
  return { ...progress, runningByPhase };
}

export const pauseSession = (client: Client, session: string) => client.workflow.getHandle(sessionWorkflowId(session)).signal(pauseSignal);
export const resumeSession = (client: Client, session: string) => client.workflow.getHandle(sessionWorkflowId(session)).signal(resumeSignal);
