#!/usr/bin/env node
// moodle-archiver, the operator's CLI: plan, start and watch a session; pause
// (or drain), resume, change its concurrency, retry, skip, cancel; schedules
// per vintage; sessions list, course show, report; the catalog; doctor. Each
// group of commands lives in client/commands/ and registers itself here.
import { SESSION_NON_RETRYABLE } from '../contract';
import { ConfigError } from '../workers/config';
import { registerCatalogCommands } from './commands/catalog';
import { program } from './commands/common';
import { registerInspectCommands } from './commands/inspect';
import { registerScheduleCommands } from './commands/schedules';
import { registerSessionCommands } from './commands/sessions';
import { registerSetupCommands } from './commands/setup';
import { SessionInputError } from './session-input';
import { ActionRefused } from './action-refused';
import { inert, inertStdout } from './inert';
import { rootCause } from './root-cause';

inertStdout();
registerSessionCommands(program);
registerScheduleCommands(program);
registerInspectCommands(program);
registerCatalogCommands(program);
registerSetupCommands(program);

/** Failures that mean the request named something that does not exist: bad input, exit 2. */
const INPUT_FAILURES = new Set<string>(SESSION_NON_RETRYABLE);

// Exit codes: 0 done; 1 failed (a course, a broken ledger, an error); 2 input refused; 3 the catalog cannot be read
// (missing, unreachable, not migrated): a script tells "try later" from "the ledger was tampered with".
program.parseAsync().catch(async (e: unknown) => {
  if (e instanceof ConfigError || e instanceof SessionInputError || e instanceof ActionRefused) {
    process.stderr.write(`${inert(e.message)}\n`);
    process.exit(2);
  }
  const { CatalogUnavailable } = await import('../activities/catalog');
  if (e instanceof CatalogUnavailable) {
    process.stderr.write(`${inert(e.message)}\n`);
    process.exit(3);
  }
  // Loaded here, not at start: a command that ran a workflow has it loaded already.
  const { ApplicationFailure, WorkflowFailedError } = await import('@temporalio/client');
  if (e instanceof WorkflowFailedError) {
    const cause = rootCause(e);
    process.stderr.write(`${inert(cause.message)}\n`);
    process.exit(cause instanceof ApplicationFailure && INPUT_FAILURES.has(cause.type ?? '') ? 2 : 1);
  }
  process.stderr.write(`${inert((e as Error).message)}\n`);
  process.exit(1);
});
