// A failed workflow's own reason: the innermost cause (a missing category, say), not "Workflow execution failed".
// Free of dependencies: the CLI's error path loads it without the Temporal client.
export function rootCause(e: Error): Error {
  let cur: Error = e;
  while ((cur as { cause?: unknown }).cause instanceof Error) cur = (cur as { cause: Error }).cause;
  return cur;
}
