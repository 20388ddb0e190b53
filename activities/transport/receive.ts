// The transfer engine both drivers share: stream into `<dest>.part` at
// constant memory, hash on the fly (sha256, and sha1 where the source gives
// one), heartbeat the offset, and on a retry resume from the last heartbeated
// offset, re-hashing only what is already on disk. Every byte, in order, also
// goes to an optional sink (the reader of the backup's description), so
// nothing reads the file twice. The caller renames `<dest>.part` once it has
// read what it needs from it: a file named `dest` is always complete.
import { activityInfo, ApplicationFailure, cancellationSignal, heartbeat } from '@temporalio/activity';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { throttle } from './throttle';
import { makeSharedDir } from '../shared-dir';

/** What each heartbeat carries: where a retry resumes, and which version of the file it was. */
export interface TransferProgress {
  offset: number;
  total: number;
  etag?: string;
}

export interface Incoming {
  body: Readable | NodeJS.ReadableStream;
  /** Where the body starts: the asked offset, or 0 when the source could not resume. */
  offset: number;
  total: number;
  /** The source's SHA-1 of the whole file, when it gives one (Moodle's ETag). */
  sha1?: string;
}

export interface Received {
  /** The checked file, still named `<dest>.part`. */
  part: string;
  bytes: number;
  sha256: string;
  /** Bytes that crossed the wire in this attempt. */
  sent: number;
  /** Where this attempt started (0: from the beginning). */
  resumedFrom: number;
  /** The source's SHA-1 it was checked against, if any. */
  etag?: string;
}

export async function receiveResumable(opts: {
  dest: string;
  name: string;
  open: (offset: number, prior?: TransferProgress) => Promise<Incoming>;
  /** What the file must be; the source's SHA-1, if it gives one, is checked too. */
  expected: { bytes?: number; sha256?: string };
  bytesPerSecond?: number;
  /** Gets the whole file, in order, then end(); a sink that fails is dropped (its owner reports it). */
  alsoTo?: Writable;
}): Promise<Received> {
  const part = `${opts.dest}.part`;
  makeSharedDir(dirname(part));
  const prior = activityInfo().heartbeatDetails as TransferProgress | undefined;
  const onDisk = existsSync(part) ? statSync(part).size : 0;
  let offset = prior?.offset ? Math.min(prior.offset, onDisk) : 0;
  // Everything arrived before the last attempt died: nothing left to ask the source for.
  const complete = offset > 0 && offset === prior?.total;
  const incoming = complete ? { body: Readable.from([]), offset, total: prior.total, sha1: prior.etag } : await opts.open(offset, prior);
  if (incoming.offset !== offset) offset = 0; // the source sent the whole file (it changed, or it cannot resume)
  if (offset === 0) writeFileSync(part, '');
  else truncateSync(part, offset);

  const sha256 = createHash('sha256');
  // The SHA-1 only where the source gives one to check against (Moodle's ETag): a second hash costs a second pass of CPU.
  const sha1 = incoming.sha1 ? createHash('sha1') : undefined;
  if (offset > 0) await readThrough(part, sha1 ? [sha256, sha1] : [sha256], opts.alsoTo);
  let sent = 0;
  let last = 0;
  let lastAt = Date.now();
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sha256.update(chunk);
      sha1?.update(chunk);
      sent += chunk.length;
      // Heartbeats are throttled by the SDK; calling it per MB is cheap. On a slow link (a low maxMBps),
      // every 5 s as well: a megabyte may take longer than the heartbeat timeout.
      if (sent - last >= 1 << 20 || Date.now() - lastAt >= 5000) {
        last = sent;
        lastAt = Date.now();
        heartbeat({ offset: offset + sent, total: incoming.total, etag: incoming.sha1 } satisfies TransferProgress);
      }
      feedSink(opts.alsoTo, chunk).then(() => cb(null, chunk), cb);
    },
  });
  const write = createWriteStream(part, { flags: 'r+', start: offset });
  const signal = cancellationSignal();
  try {
    await (opts.bytesPerSecond
      ? pipeline(incoming.body, throttle(opts.bytesPerSecond), meter, write, { signal })
      : pipeline(incoming.body, meter, write, { signal }));
  } catch (e) {
    opts.alsoTo?.destroy();
    if (signal.aborted) throw e;
    // Only the code: an HTTP client's error carries the URL, and a web-service URL carries the token.
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).name;
    throw ApplicationFailure.retryable(`Transfer of ${opts.name} interrupted after ${offset + sent} bytes: ${code}`, 'TransferInterrupted');
  }

  const bytes = offset + sent;
  const got = { sha256: sha256.digest('hex'), sha1: sha1?.digest('hex') };
  const problems = [
    opts.expected.bytes !== undefined && bytes !== opts.expected.bytes ? `${bytes} bytes, expected ${opts.expected.bytes}` : '',
    incoming.total >= 0 && bytes !== incoming.total ? `${bytes} bytes, the source announced ${incoming.total}` : '',
    opts.expected.sha256 && got.sha256 !== opts.expected.sha256 ? `sha256 ${got.sha256}, expected ${opts.expected.sha256}` : '',
    incoming.sha1 && got.sha1 !== incoming.sha1 ? `sha1 ${got.sha1}, the source's ETag says ${incoming.sha1}` : '',
  ].filter(Boolean);
  if (problems.length) {
    // The bytes on disk cannot be trusted: the next attempt starts from zero.
    truncateSync(part, 0);
    opts.alsoTo?.destroy();
    heartbeat({ offset: 0, total: incoming.total } satisfies TransferProgress);
    throw ApplicationFailure.retryable(`Transfer of ${opts.name} does not match its source: ${problems.join('; ')}`, 'ChecksumMismatch');
  }
  opts.alsoTo?.end();
  heartbeat({ offset: bytes, total: bytes, etag: incoming.sha1 } satisfies TransferProgress);
  return { part, bytes, sha256: got.sha256, sent, resumedFrom: offset, etag: incoming.sha1 };
}

/** Reads a file from its start through the hashes and into the sink, which stays open for more. */
export async function readThrough(file: string, hashes: Hash[], sink?: Writable, onBytes?: (n: number) => void): Promise<void> {
  let n = 0;
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) {
    for (const h of hashes) h.update(c as Buffer);
    onBytes?.((n += (c as Buffer).length));
    await feedSink(sink, c as Buffer);
  }
}

/** Writes to a sink, waiting while it is full; a sink that has failed gets nothing more. */
async function feedSink(sink: Writable | undefined, chunk: Buffer): Promise<void> {
  if (!sink || sink.destroyed || sink.write(chunk)) return;
  await new Promise<void>((done) => {
    const go = () => {
      sink.off('drain', go);
      sink.off('close', go);
      done();
    };
    sink.on('drain', go);
    sink.on('close', go);
  });
}
