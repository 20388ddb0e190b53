// Cold storage and the catalog as ledger, end to end: a session seals each
// course into a package (manifest + .mbz) in a storage folder, re-reads it,
// and only then deletes the source; the operator finds courses, verifies the
// ledger, rebuilds a lost catalog from the packages, and expires archives
// whose retention passed. Verification before deletion is held everywhere.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';
import * as tar from 'tar-stream';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../activities';
import { writePackage, type Manifest } from '../activities/storage/package';
import { FolderStore } from '../activities/storage/store';
import type { PhaseRequest } from '../workflows/types';
import { marksArchiveOf } from '../activities/restore';
import { LEDGER_HEADS_FILE } from '../contract';
import { PHASES } from '../workflows/phases';
import type { ExpiringArchive } from '../activities/expire';
import { archiverCli, startStack, until, writeConfigFile, type Stack } from './harness';
import { Catalog } from '../activities/catalog';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A package's members, in order, with their bytes. */
async function members(file: string): Promise<{ name: string; data: Buffer }[]> {
  const out: { name: string; data: Buffer }[] = [];
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      out.push({ name: h.name, data: Buffer.concat(chunks) });
      next();
    });
  });
  await pipeline(createReadStream(file), extract);
  return out;
}

describe('a cold-storage target', () => {
  let stack: Stack;
  let cold: string;
  let session: string;
  let courseIds: number[];

  beforeAll(async () => {
    stack = await startStack({
      courses: 6,
      configure: (raw, dir) => {
        cold = join(dir, 'cold');
        raw.storages = { cold: { path: cold, staging: join(dir, 'staging', 'cold') } };
        raw.transports = [{ from: 'prod', to: 'cold', driver: 'shared-path', mode: 'move' }];
        raw.retention = [
          { categoryIdnumber: '2025-2026', keepYears: 10 },
          { categoryIdnumber: '2024-2025', keepYears: 5 },
        ];
      },
    });
    courseIds = stack.vintageCourseIds();
    const input = stack.sessionInput({ targetSiteId: 'cold', targetCategoryId: undefined, deleteSource: true, failureHoldHours: 0 });
    session = input.session;
    const result = await stack.runSession(input);
    expect(result.failed).toEqual([]);
    expect(result.counts).toEqual({ succeeded: 6, failed: 0, skipped: 0, cancelled: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('seals each course as manifest.json + course.mbz, with every checksum, the category path and the retention date', async () => {
    const release = stack.sim.sites.prod.store.data.settings.release;
    for (const id of courseIds) {
      expect(stack.sim.sites.prod.store.course(id), 'the source is deleted once verified').toBeUndefined();
      const row = (await stack.catalog.find('prod', id))!;
      expect(row).toMatchObject({ targetSiteId: 'cold', targetCourseId: null, verified: true, sourceDeleted: true, sessionId: session });
      expect(row.storageLocation).toMatch(new RegExp(`^prod/2024-2025/${id}-[A-Za-z0-9._-]+\\.tar$`));
      const file = join(cold, row.storageLocation!);
      expect(sha256(readFileSync(file))).toBe(row.packageSha256);
      const [manifestMember, mbz, ...rest] = await members(file);
      expect(rest).toEqual([]);
      expect(manifestMember.name).toBe('manifest.json');
      expect(mbz.name).toBe('course.mbz');
      const m = JSON.parse(manifestMember.data.toString()) as Manifest;
      expect(m).toMatchObject({
        format: 'moodle-session-archiver/package@1',
        session,
        vintage: '2024-2025',
        source: { siteId: 'prod', url: stack.config.sites.prod.url, moodleRelease: release },
        course: { id, shortname: row.shortname, fullname: row.fullname, idnumber: row.idnumber, categoryId: row.sourceCategoryId },
        members: [{ name: 'course.mbz', bytes: mbz.data.length, sha256: sha256(mbz.data) }],
      });
      expect(m.course.categoryPath).toMatch(/^Year 2024-2025( \/ .+)?$/);
      expect(sha256(mbz.data)).toBe(row.mbzSha256);
      // 5 years for the 2024-2025 category and its subcategories (the first matching rule).
      const years = (new Date(m.retentionUntil!).getTime() - new Date(m.createdAt).getTime()) / (365.25 * 86400_000);
      expect(years).toBeCloseTo(5, 1);
      expect(row.retentionUntil?.toISOString()).toBe(m.retentionUntil);
      // The ledger: each step of each phase, in order, once.
      expect((await stack.catalog.ledgerOf('prod', id)).map((e) => e.event)).toEqual(
        PHASES.flatMap((p): readonly { activity: string }[] => p.steps).map((s) => s.activity),
      );
    }
  });

  it('answers "where is course X now" by shortname, idnumber, source id or words of the full name; the ledger verifies', async () => {
    const row = (await stack.catalog.find('prod', courseIds[0]))!;
    const where = `cold:${row.storageLocation}`;
    for (const q of [[row.shortname.toLowerCase()], [row.idnumber], [`prod:${row.sourceCourseId}`], row.fullname.split(' ').slice(0, 2)]) {
      const out = await archiverCli(stack, ['catalog', 'find', ...q]);
      expect(out, q.join(' ')).toContain(where);
      expect(out).toContain('archived, source deleted');
    }
    expect(await archiverCli(stack, ['catalog', 'find', 'no such course'])).toContain('Not in the catalog.');
    expect(await archiverCli(stack, ['catalog', 'verify'])).toMatch(/^Ledger intact: \d+ entries, head [0-9a-f]{64}/);
  });

  it('prints a course name from Moodle inert: no escape sequence, carriage return, bidi override or forged row acts', async () => {
    const url = `file:${join(stack.dir, 'hostile.sqlite')}`;
    const hostile = { ...stack.rawConfig, catalog: { url } };
    const catalog = await Catalog.open(url);
    const model = (await stack.catalog.find('prod', courseIds[0]))!;
    const row = Object.fromEntries(Object.entries(model).filter(([k]) => k !== 'id')) as Omit<typeof model, 'id'>;
    const name = 'Maths\x1b]0;owned\x07\x1b[2J\rFAKE\u202eevil\n  prod:9  archived, source deleted';
    await catalog.record({ ...row, fullname: name });
    await catalog.close();
    const out = await archiverCli({ ...stack, rawConfig: hostile }, ['catalog', 'find', `prod:${model.sourceCourseId}`]);
    expect(out).toContain('Maths\\u001b]0;owned\\u0007\\u001b[2J\\u000dFAKE\\u202eevil');
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\u202e]/);
    // The name's newline is shown, not obeyed: every line of the answer is one the CLI wrote.
    expect(out).toContain('evil\\u000a  prod:9');
    expect(out.split('\n').some((line) => line.startsWith('  prod:9'))).toBe(false);
  });

  it('rebuilds a lost catalog from the packages alone, and does it once', async () => {
    const fresh = { ...stack.rawConfig, catalog: { url: `file:${join(stack.dir, 'rebuilt.sqlite')}` } };
    const file = writeConfigFile(stack, fresh, 'rebuilt.config.json');
    const cli = (args: string[]) => archiverCli({ ...stack, rawConfig: fresh }, args);
    expect(file).toBeTruthy();
    // Two packages that are not what their manifests say, each with every checksum right: a course.mbz that is no
    // Moodle backup, and the real backup of another course. Rebuild records neither.
    const store = new FolderStore(cold);
    const model = (await stack.catalog.find('prod', courseIds[2]))!;
    const [manifestMember, realMbz] = await members(join(cold, model.storageLocation!));
    const m = JSON.parse(manifestMember.data.toString()) as Manifest;
    const forge = async (name: string, courseId: number, mbz: Buffer) => {
      const path = join(stack.dir, `${courseId}.mbz`);
      writeFileSync(path, mbz);
      const members = [{ name: 'course.mbz', bytes: mbz.length, sha256: sha256(mbz) }];
      await writePackage(store, name, { ...m, course: { ...m.course, id: courseId }, members }, path);
    };
    await forge('forged/junk.tar', 999001, randomBytes(4096));
    await forge('forged/other.tar', 999002, realMbz.data);
    await expect(cli(['catalog', 'rebuild', '--storage', 'cold'])).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringMatching(
        new RegExp(
          [
            'Rebuilt from cold: 6 recorded, 0 already there, 2 broken',
            "broken: forged/junk.tar: course.mbz is not a readable .mbz \\(gzip'd tar\\)",
            `broken: forged/other.tar: course.mbz is a backup of course ${courseIds[2]}, the manifest names course 999002`,
          ].join('[^]*'),
        ),
      ),
    });
    for (const forged of ['forged/junk.tar', 'forged/other.tar']) store.remove(forged);
    expect(await cli(['catalog', 'rebuild', '--storage', 'cold'])).toContain('0 recorded, 6 already there');
    const rebuilt = JSON.parse(await cli(['catalog', 'find', '--json', 'prod:' + courseIds[1]])) as Record<string, unknown>[];
    const original = (await stack.catalog.find('prod', courseIds[1]))!;
    expect(rebuilt).toHaveLength(1);
    expect(rebuilt[0]).toMatchObject({
      storageLocation: original.storageLocation,
      packageSha256: original.packageSha256,
      mbzSha256: original.mbzSha256,
      shortname: original.shortname,
      categoryPath: original.categoryPath,
      sessionId: session,
      verified: true,
      retentionUntil: original.retentionUntil!.toISOString(),
      // A session resumes from this row only for a course still as its backup found it.
      version: 1,
      sourceFingerprint: original.sourceFingerprint,
    });
    expect(original.sourceFingerprint).toMatch(/^settings:[0-9a-f]{16} /);
    // The rebuilt catalog kept its own head beside the storage, and its ledger reaches it.
    expect(await cli(['catalog', 'verify'])).toMatch(
      /^Ledger intact: 6 entries, head [0-9a-f]{64}; reaches the head kept elsewhere \(entry 6\)/,
    );
  });

  it('refuses what did not verify in this run: a tampered package fails verification, a foreign verification deletes nothing', async () => {
    const activities = createActivities(stack.config, stack.catalog);
    const row = (await stack.catalog.find('prod', courseIds[2]))!;
    // A copy with one byte flipped inside the .mbz member.
    const copy = join(cold, 'tampered', 'copy.tar');
    mkdirSync(dirname(copy), { recursive: true });
    copyFileSync(join(cold, row.storageLocation!), copy);
    const fd = openSync(copy, 'r+');
    const at = statSync(copy).size - 4096;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    writeSync(fd, Buffer.from([b[0] ^ 0xff]), 0, 1, at);
    closeSync(fd);
    const req: PhaseRequest = {
      course: {
        session: 'check',
        vintage: '2024-2025',
        courseId: row.sourceCourseId,
        sourceSiteId: 'prod',
        targetSiteId: 'cold',
        targetCategoryId: 0,
        sourceRootCategoryId: 1,
        mirrorSubcategories: false,
        deleteSource: true,
        failureHoldHours: 0,
      },
      facts: {
        storageLocation: 'tampered/copy.tar',
        packageSha256: row.packageSha256!,
        mbzSha256: row.mbzSha256,
        shortname: row.shortname,
        fullname: row.fullname,
        mbzBytes: Number(row.mbzBytes),
      },
    };
    await expect(new MockActivityEnvironment().run(activities.verifyArchive, req)).rejects.toMatchObject({
      type: 'VerificationFailed',
      message: expect.stringMatching(/does not re-read clean: member course\.mbz: .* the manifest says/),
    });
    // Verified, but by another run (a stale fact carried over): the source must stay.
    const kept = stack.sim.sites.prod.store.data.courses.find((c) => c.format !== 'site')!;
    await expect(
      new MockActivityEnvironment().run(activities.deleteSourceCourse, {
        course: { ...req.course, courseId: kept.id },
        facts: { verified: true, verifiedInRun: 'another-run' },
      }),
    ).rejects.toMatchObject({ type: 'UnverifiedDeletion' });
    expect(stack.sim.sites.prod.store.course(kept.id)).toBeDefined();
  });

  it('expires what outlived its retention: a dry run first, then the packages go and the ledger says so', async () => {
    const asOf = new Date(Date.now() + 5.01 * 365.25 * 86400_000).toISOString();
    const dry = await archiverCli(stack, ['catalog', 'expire', '--dry-run', '--as-of', asOf]);
    expect(dry).toContain('Dry run: 6 archive(s) would be deleted.');
    const rows = await Promise.all(courseIds.map((id) => stack.catalog.find('prod', id)));
    for (const r of rows) expect(existsSync(join(cold, r!.storageLocation!))).toBe(true);
    expect(
      await archiverCli(stack, ['catalog', 'expire', '--as-of', new Date(Date.now() + 4 * 365.25 * 86400_000).toISOString()]),
    ).toContain('Nothing to expire');
    expect(await archiverCli(stack, ['catalog', 'expire', '--as-of', asOf])).toContain('Expired 6 of 6.');
    for (const r of rows) {
      expect(existsSync(join(cold, r!.storageLocation!))).toBe(false);
      expect((await stack.catalog.find('prod', r!.sourceCourseId))?.expiredAt).toBeInstanceOf(Date);
      const last = (await stack.catalog.ledgerOf('prod', r!.sourceCourseId)).at(-1)!;
      expect(last.event).toBe('expired');
      expect(JSON.parse(last.detail)).toMatchObject({ storageLocation: r!.storageLocation, targetSiteId: 'cold' });
    }
    expect(await archiverCli(stack, ['catalog', 'find', `prod:${courseIds[0]}`])).toContain('expired');
    expect(await archiverCli(stack, ['catalog', 'verify'])).toMatch(/^Ledger intact/);
  });
});

describe('verification before deletion on a Moodle target', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 5 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a restore that quietly loses an activity fails verification: the source stays, nothing is recorded as archived', async () => {
    const [lossy, ...others] = stack.vintageCourseIds();
    const prod = stack.sim.sites.prod.store;
    stack.sim.sites.archive.store.data.faults.push({
      script: 'restore',
      shortname: prod.course(lossy)!.shortname,
      times: -1,
      effect: 'lose-activity',
    });
    const result = await stack.runSession(stack.sessionInput({ deleteSource: true, failureHoldHours: 0 }));
    expect(result.counts).toMatchObject({ succeeded: 4, failed: 1 });
    expect(result.failed).toEqual([
      expect.objectContaining({
        courseId: lossy,
        phase: 'restore',
        message: expect.stringMatching(/differs from the source: activities: source \d+, archive \d+/),
      }),
    ]);
    expect(prod.course(lossy)).toBeDefined();
    expect(await stack.catalog.find('prod', lossy)).toBeNull();
    const events = (await stack.catalog.ledgerOf('prod', lossy)).map((e) => e.event);
    // Closed at once (no hold): its backups discarded on both hosts; nothing recorded as archived, nothing deleted.
    expect(events).toEqual([
      'prepareCourse',
      'backupCourse',
      'transportBackup',
      'restoreCourse',
      'removeSourceStaging',
      'removeTargetStaging',
    ]);
    for (const id of others) expect(prod.course(id)).toBeUndefined();
  });
});

describe('a course renamed while its backup runs', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ courses: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('is archived again under its new name; the source goes only then, and its one copy is hidden', async () => {
    const [id] = stack.vintageCourseIds();
    const prod = stack.sim.sites.prod;
    prod.gates.close('backup.php');
    const run = stack.runSession(stack.sessionInput({ deleteSource: true, failureHoldHours: 0 }));
    await until(
      async () => prod.gates.waiting('backup.php'),
      (n) => n === 1,
      60_000,
    );
    // A teacher edits the course name after the archiver read it, before backup.php reads it.
    prod.store.course(id)!.fullname = 'Renamed by its teacher';
    prod.store.save();
    prod.gates.open('backup.php');
    const result = await run;
    expect(result.counts).toMatchObject({ succeeded: 1, failed: 0 });
    const copies = stack.sim.sites.archive.store.data.courses.filter((c) => marksArchiveOf(c.idnumber, 'prod', id));
    expect(copies.map((c) => [c.fullname, c.visible])).toEqual([['Renamed by its teacher', 0]]);
    expect((await stack.catalog.find('prod', id))!.fullname).toBe('Renamed by its teacher');
    expect(prod.store.course(id)).toBeUndefined();
  });
});

describe('the ledger against a tampered catalog', () => {
  let stack: Stack;
  let cold: string;
  beforeAll(async () => {
    stack = await startStack({
      courses: 3,
      configure: (raw, dir) => {
        cold = join(dir, 'cold');
        raw.storages = { cold: { path: cold, staging: join(dir, 'staging', 'cold') } };
        raw.transports = [{ from: 'prod', to: 'cold', driver: 'shared-path' }];
        raw.retention = [{ categoryIdnumber: '2024-2025', keepYears: 5 }];
      },
    });
    const result = await stack.runSession(stack.sessionInput({ targetSiteId: 'cold', targetCategoryId: undefined, deleteSource: false }));
    expect(result.counts).toMatchObject({ succeeded: 3, failed: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('names every field a decision reads that was changed, a removed row and a cut-off tail; expiry refuses a swapped archive', async () => {
    const [a, b, c] = stack.vintageCourseIds();
    const rows = await Promise.all([a, b, c].map(async (id) => (await stack.catalog.find('prod', id))!));
    // The session's end kept the ledger head beside the storage.
    const kept = readFileSync(join(cold, LEDGER_HEADS_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; hash: string });
    expect(kept.at(-1)).toMatchObject(await stack.catalog.ledgerHead());
    expect(await archiverCli(stack, ['catalog', 'verify'])).toMatch(
      /^Ledger intact: \d+ entries, head [0-9a-f]{64}; reaches the head kept elsewhere/,
    );

    // Someone with the database: a row pointed at another course's package, a retention shortened, a row removed.
    const db = stack.catalog.db.archivedCourse;
    await db.update({ where: { id: rows[0].id }, data: { storageLocation: rows[1].storageLocation } });
    await db.update({ where: { id: rows[1].id }, data: { retentionUntil: new Date('2020-01-01T00:00:00Z'), sourceDeleted: true } });
    await db.delete({ where: { id: rows[2].id } });
    const broken = await archiverCli(stack, ['catalog', 'verify']).catch((e: { code: number; stdout: string }) => e);
    expect(broken).toMatchObject({ code: 1 });
    const out = (broken as { stdout: string }).stdout;
    expect(out).toContain(
      `catalog row of prod course ${a} says location ${rows[1].storageLocation}, the ledger recorded ${rows[0].storageLocation}`,
    );
    expect(out).toContain(
      `catalog row of prod course ${b} says kept until 2020-01-01T00:00:00.000Z, the ledger recorded ${rows[1].retentionUntil!.toISOString()}`,
    );
    expect(out).toContain(`catalog row of prod course ${b} says source deleted true, the ledger recorded false`);
    expect(out).toMatch(new RegExp(`catalog row of prod course ${c} was removed: the ledger recorded it at entry \\d+`));

    // Expiry acts on the row as it is now: the package it points at is another course's, and stays.
    const activities = createActivities(stack.config, stack.catalog);
    const env = new MockActivityEnvironment();
    const swapped: ExpiringArchive | null = await env.run(activities.archiveToExpire, {
      catalogId: rows[1].id,
      asOf: new Date().toISOString(),
    });
    const request: ExpiringArchive = { ...swapped!, storageLocation: rows[0].storageLocation };
    await expect(env.run(activities.deleteArchive, request)).rejects.toMatchObject({
      type: 'ArchiveIdentityMismatch',
      message: expect.stringMatching(
        new RegExp(`its manifest is of prod course ${a}, not prod course ${b}; it is not the archive its catalog row names`),
      ),
    });
    expect(existsSync(join(cold, rows[0].storageLocation!))).toBe(true);
    // Its own package, asked for as the row names it: deleted, and one audit line says what, where and which.
    const lines: { message: string; meta?: Record<string, unknown> }[] = [];
    const keep = (message: string, meta?: Record<string, unknown>) => lines.push({ message, meta });
    const logger = {
      log: (_l: string, m: string, meta?: Record<string, unknown>) => keep(m, meta),
      trace: keep,
      debug: keep,
      info: keep,
      warn: keep,
      error: keep,
    };
    await new MockActivityEnvironment(undefined, { logger }).run(activities.deleteArchive, swapped!);
    expect(existsSync(join(cold, rows[1].storageLocation!))).toBe(false);
    expect(lines.flatMap((l) => (l.meta?.audit ? [l.meta.audit] : []))).toEqual([
      {
        act: 'archive-expired',
        site: 'cold',
        deleted: rows[1].storageLocation,
        course: `prod course ${b}`,
        archive: `cold:${rows[1].storageLocation}`,
        mbzSha256: rows[1].mbzSha256,
        packageSha256: rows[1].packageSha256,
      },
    ]);

    // The tail cut off: the head kept beside the storage is no longer reached.
    const last = await stack.catalog.ledgerHead();
    await stack.catalog.db.ledgerEntry.deleteMany({ where: { seq: { gt: last.seq - 3 } } });
    const cut = await archiverCli(stack, ['catalog', 'verify']).catch((e: { stdout: string }) => e);
    expect((cut as { stdout: string }).stdout).toContain(
      `the ledger ends at entry ${last.seq - 3}, but entry ${last.seq} (${last.hash}) was recorded elsewhere: its tail was cut off`,
    );
  });
});
