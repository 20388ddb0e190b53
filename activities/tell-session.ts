// A course tells its session how it stands (its end, a hold) through the
// main worker's Temporal client, from a local activity: it rides in the
// workflow task of the course's last step instead of a signal command and the
// workflow task that waits for it. The session takes a repeated report once
// (a local activity may run again after a worker restart).
import type { SessionRegistry } from './overlaps';

export function tellSessionActivities(registry: SessionRegistry) {
  return {
    async tellSession({ workflowId, signal, args }: { workflowId: string; signal: string; args: unknown[] }): Promise<void> {
      await registry.signal(workflowId, signal, args);
    },
  };
}
