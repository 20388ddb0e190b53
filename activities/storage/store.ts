// Where sealed packages live. A folder today; the interface is what an
// object store (S3, Swift) would implement: whole objects by name, written
// once, read as streams, listed and removed.
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

export interface ArchiveStore {
  /** Writes an object; it appears under `name` only once `commit` resolves (never half-written). */
  writer(name: string): { stream: Writable; commit(): Promise<void> };
  reader(name: string): Readable;
  exists(name: string): boolean;
  list(suffix: string): string[];
  remove(name: string): void;
}

export class FolderStore implements ArchiveStore {
  constructor(readonly root: string) {}

  private path(name: string): string {
    const p = join(this.root, name);
    if (!p.startsWith(this.root + sep)) throw new Error(`${name} is outside the storage folder`);
    return p;
  }

  writer(name: string) {
    const final = this.path(name);
    const tmp = `${final}.partial`;
    mkdirSync(dirname(final), { recursive: true });
    const stream = createWriteStream(tmp);
    return {
      stream,
      async commit() {
        await finished(stream);
        renameSync(tmp, final);
      },
    };
  }

  reader(name: string): Readable {
    return createReadStream(this.path(name), { highWaterMark: 1 << 20 });
  }

  exists(name: string): boolean {
    return existsSync(this.path(name));
  }

  list(suffix: string): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      if (!existsSync(dir)) return;
      for (const d of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, d.name);
        if (d.isDirectory()) walk(p);
        else if (d.name.endsWith(suffix)) out.push(relative(this.root, p).split(sep).join('/'));
      }
    };
    walk(this.root);
    return out.sort();
  }

  remove(name: string): void {
    rmSync(this.path(name), { force: true });
  }
}
