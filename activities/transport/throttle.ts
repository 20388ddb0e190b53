// A bandwidth cap as a stream stage: a transfer (or the simulated site's
// file endpoint) never sends faster than this, whatever the disks allow.
import { Transform } from 'node:stream';

export function throttle(bytesPerSecond: number): Transform {
  const started = Date.now();
  let passed = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      passed += chunk.length;
      setTimeout(() => cb(null, chunk), Math.max(0, started + (passed / bytesPerSecond) * 1000 - Date.now()));
    },
  });
}
