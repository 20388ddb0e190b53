// Moodle's admin scripts can stay silent for an hour (backup.php prints three
// lines in all), so heartbeats also go out on a timer: a long quiet run is not
// taken for a dead one, and a cancellation still reaches it.
import { heartbeat } from '@temporalio/activity';

export async function withHeartbeats<T>(run: (onLine: (line: string) => void) => Promise<T>, everyMs = 10_000): Promise<T> {
  let last = { line: '' };
  const timer = setInterval(() => heartbeat(last), everyMs);
  try {
    return await run((line) => {
      last = { line };
      heartbeat(last);
    });
  } finally {
    clearInterval(timer);
  }
}
