// Seeded file content: pseudo-random, incompressible and reproducible, so a
// simulated site holds gigabytes of files it never stores.
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Pseudo-random, incompressible, reproducible content for a seeded file, a MB at a time. */
function* contentChunks(seed: string, bytes: number): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  for (let at = 0; at < bytes; at += 1 << 20) yield cipher.update(Buffer.alloc(Math.min(1 << 20, bytes - at)));
}

export function generateContent(seed: string, bytes: number): Buffer {
  return Buffer.concat([...contentChunks(seed, bytes)]);
}

/** The same content as a stream: a file of a GB is never whole in memory. */
export function contentStream(seed: string, bytes: number): Readable {
  return Readable.from(contentChunks(seed, bytes));
}

export function contentSha1(seed: string, bytes: number): string {
  const hash = createHash('sha1');
  for (const chunk of contentChunks(seed, bytes)) hash.update(chunk);
  return hash.digest('hex');
}

/** A file's bytes for a backup: in memory, or (large generated files) a stream of known size and hash. */
export type FileBytes = Buffer | { size: number; sha1: string; stream: () => Readable };

export function sha1(buf: Buffer): string {
  return createHash('sha1').update(buf).digest('hex');
}
