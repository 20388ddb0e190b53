// Contract tests: every call recorded on a real Moodle 4.5 (shared/fixtures/moodle)
// is replayed, in the order it was recorded, against a simulated site rebuilt
// from those recordings. The two answers must agree on HTTP status, content
// type, keys, types (Moodle's loose ones included: null idnumbers, numbers
// as strings), nesting, and, for errors, the exact error code and exception
// class. Values (names, times, URLs) may differ.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phpInServer, startSimulator, type RunningSimulator } from '../simulator/server';
import { SiteStore } from '../simulator/state';
import { readMbz, usersOf } from '../simulator/mbz';
import { FIXTURES, fixture, fixtureSiteData } from './fixture-site';
import { z } from 'zod';
import { Course, MoodleClient, Section } from '../activities/moodle/client';
import { fingerprintChanges, liveFingerprint, sourceFingerprint } from '../activities/source-fingerprint';
import { teacherEdit, type TeacherEdit } from '../simulator/teacher-edits';

interface Recorded {
  request: { body: string };
  http_status: number;
  content_type: string;
  valid_json: boolean;
  bytes: number;
}

/** Where two JSON values differ in shape; objects in arrays are paired by id when they have one. */
function jsonShapeDifferences(expected: unknown, actual: unknown, path = '$'): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(expected) !== kind(actual)) return [`${path}: ${kind(expected)} recorded, ${kind(actual)} simulated`];
  const out: string[] = [];
  if (Array.isArray(expected)) {
    const got = actual as unknown[];
    if (expected.length && !got.length) return [`${path}: elements recorded, none simulated`];
    const byId = expected.every((x) => x !== null && typeof x === 'object' && 'id' in x);
    expected.forEach((x, i) => {
      const y = byId ? got.find((z) => (z as { id?: unknown })?.id === (x as { id: unknown }).id) : got[i];
      if (byId && y === undefined) out.push(`${path}: no element with id ${(x as { id: unknown }).id} simulated`);
      else if (i < got.length || byId) out.push(...jsonShapeDifferences(x, y, `${path}[${byId ? `id=${(x as { id: unknown }).id}` : i}]`));
    });
  } else if (expected && typeof expected === 'object') {
    const got = actual as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected))
      out.push(...(k in got ? jsonShapeDifferences(v, got[k], `${path}.${k}`) : [`${path}.${k}: not simulated`]));
    for (const k of Object.keys(got)) if (!(k in expected)) out.push(`${path}.${k}: simulated, not recorded`);
  }
  return out;
}

/** The structure of a REST XML answer: root element (with an exception's class), and every KEY path with null or value. */
function xmlSkeleton(xml: string): string[] {
  const paths = new Set<string>();
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)(RESPONSE|EXCEPTION|SINGLE|MULTIPLE|KEY|VALUE)((?: [a-z]+="[^"]*")*)\s*(\/?)>/g)) {
    const [, closing, tag, attrs, selfClosing] = m;
    if (closing) {
      stack.pop();
      continue;
    }
    const name = /name="([^"]*)"/.exec(attrs)?.[1];
    const label = tag === 'KEY' ? name! : tag === 'EXCEPTION' ? `EXCEPTION(${/class="([^"]*)"/.exec(attrs)?.[1]})` : tag;
    if (tag === 'VALUE') paths.add(`${stack.join('/')}:${attrs.includes('null="null"') ? 'null' : 'value'}`);
    else paths.add([...stack, label].join('/'));
    if (!selfClosing) stack.push(label);
  }
  return [...paths].sort();
}

/** Runs a stand-in as the host adapter does: php <moodle>/admin/cli/<script> args; stdout and stderr merged as recorded. */
async function standIn(sim: RunningSimulator, command: string[], name: string, args: string[]): Promise<{ output: string; code: number }> {
  const [php, ...phpArgs] = command;
  const r = await promisify(execFile)(php, [...phpArgs, join(sim.sites.fixture.moodleDir, 'admin', 'cli', name), ...args]).then(
    (ok) => ({ ...ok, code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => e,
  );
  return { output: r.stdout + r.stderr, code: r.code };
}

describe('the simulator against recordings of a real Moodle 4.5', () => {
  const token = 'c0ffee00c0ffee00c0ffee00c0ffee00';
  let dir: string;
  let sim: RunningSimulator;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'archiver-contract-'));
    new SiteStore(join(dir, 'fixture'), fixtureSiteData(token));
    sim = await startSimulator({ dataDir: dir, sites: [{ siteId: 'fixture' }] });
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function replay(meta: Record<string, Recorded>) {
    const problems: string[] = [];
    for (const [name, recorded] of Object.entries(meta)) {
      const res = await fetch(`${sim.sites.fixture.url}/webservice/rest/server.php`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: recorded.request.body.replace('<TOKEN>', token),
      });
      const body = await res.text();
      const say = (what: string) => problems.push(`${name}: ${what}`);
      if (res.status !== recorded.http_status) say(`HTTP ${res.status}, recorded ${recorded.http_status}`);
      const type = res.headers.get('content-type') ?? '';
      if (type.toLowerCase() !== recorded.content_type.toLowerCase()) say(`content type ${type}, recorded ${recorded.content_type}`);
      const file = join(
        FIXTURES,
        recorded.valid_json ? `${name}.json` : `${name.replace(/\.xml-default-format$/, '')}.xml-default-format.xml`,
      );
      const expected = readFileSync(file, 'utf8');
      if (!recorded.valid_json) {
        const [want, got] = [xmlSkeleton(expected), xmlSkeleton(body)];
        for (const p of want) if (!got.includes(p)) say(`XML ${p} not simulated`);
        for (const p of got) if (!want.includes(p)) say(`XML ${p} simulated, not recorded`);
        continue;
      }
      const [want, got] = [JSON.parse(expected) as Record<string, unknown>, JSON.parse(body) as Record<string, unknown>];
      for (const d of jsonShapeDifferences(want, got)) say(d);
      if (want && typeof want === 'object' && 'exception' in want) {
        if (got.exception !== want.exception) say(`exception ${String(got.exception)}, recorded ${String(want.exception)}`);
        if (got.errorcode !== want.errorcode) say(`errorcode ${String(got.errorcode)}, recorded ${String(want.errorcode)}`);
      }
    }
    return problems;
  }

  it('answers every recorded web-service call alike, in the order recorded (reads, writes, errors, XML)', async () => {
    const meta = fixture<Record<string, Recorded>>('_http_meta.rest.json');
    expect(Object.keys(meta).length).toBeGreaterThanOrEqual(36);
    expect(await replay(meta)).toEqual([]);
  });

  it('answers the recorded errors alike with debugging on, debuginfo included', async () => {
    sim.sites.fixture.store.data.settings.debug = true;
    try {
      expect(await replay(fixture<Record<string, Recorded>>('_http_meta.debug.json'))).toEqual([]);
    } finally {
      sim.sites.fixture.store.data.settings.debug = false;
    }
  });

  it('serves files as the recorded site did: module content, the backup area with Range and a SHA-1 ETag, errors', async () => {
    const meta = fixture<Record<string, Recorded & { request: { url?: string } }>>('_http_meta.files.json');
    const base = sim.sites.fixture.url;
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers, redirect: 'manual' });
    const recordedBody = (name: string) => readFileSync(join(FIXTURES, `${name}.body`), 'utf8');
    const path = (name: string) =>
      new URL(meta[name].request.url!.replace('<TOKEN>', token)).pathname +
      new URL(meta[name].request.url!.replace('<TOKEN>', token)).search;
    const headerLines = (name: string) =>
      Object.fromEntries(
        readFileSync(join(FIXTURES, `${name}.headers.txt`), 'utf8')
          .split('\n')
          .slice(1)
          .filter((l) => l.includes(':'))
          .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );

    const resource = await get(path('webservice_pluginfile.resource'));
    const content = Buffer.from(await resource.arrayBuffer());
    expect(resource.status).toBe(200);
    expect(resource.headers.get('content-type')).toBe(meta['webservice_pluginfile.resource'].content_type);
    expect(content.length).toBe(meta['webservice_pluginfile.resource'].bytes);
    expect(resource.headers.get('etag')).toBe(`"${createHash('sha1').update(content).digest('hex')}"`);
    expect(resource.headers.get('accept-ranges')).toBe('none');
    const page = await get(path('webservice_pluginfile.page'));
    expect([page.status, page.headers.get('content-type'), page.headers.get('content-disposition')]).toEqual([
      200,
      meta['webservice_pluginfile.page'].content_type,
      'attachment; filename="index.html"',
    ]);

    // Errors: the same status, type and body, to the byte.
    for (const name of ['webservice_pluginfile.invalidtoken', 'webservice_pluginfile.notoken', 'webservice_pluginfile.missingfile']) {
      const res = await get(path(name));
      expect([name, res.status, res.headers.get('content-type'), await res.text()]).toEqual([
        name,
        meta[name].http_status,
        meta[name].content_type,
        recordedBody(name),
      ]);
    }
    // A draft file is not served, whatever the token: the upload area cannot carry a backup between sites.
    const draft = await get(`/webservice/pluginfile.php/5/user/draft/433426774/upload-test.txt?token=${token}`);
    expect([draft.status, await draft.text()]).toEqual([404, recordedBody('webservice_pluginfile.draft-file')]);
    // Without a token, pluginfile.php wants a browser session.
    const session = await get(new URL(meta['pluginfile.no-session'].request.url!).pathname);
    expect(session.status).toBe(303);
    expect(session.headers.get('location')).toBe(`${base}/login/index.php`);

    // The real backup of course 3, in its backup area: the ETag is the one the real site sent.
    const mbzName = 'backup-moodle2-course-3-arch201-20261124-1056.mbz';
    const mbz = readFileSync(join(FIXTURES, 'mbz', mbzName));
    mkdirSync(sim.sites.fixture.store.layout.backupArea(3), { recursive: true });
    writeFileSync(join(sim.sites.fixture.store.layout.backupArea(3), mbzName), mbz);
    const backupPath = `/webservice/pluginfile.php/${sim.sites.fixture.store.course(3)!.contextid}/backup/course/${mbzName}?token=${token}`;
    const full = await get(backupPath);
    const want = headerLines('webservice_pluginfile.backup-area.full');
    expect(Buffer.from(await full.arrayBuffer()).equals(mbz)).toBe(true);
    for (const h of ['etag', 'accept-ranges', 'content-type', 'content-length', 'content-disposition'])
      expect([h, full.headers.get(h)]).toEqual([h, want[h]]);
    const part = await get(backupPath, { range: 'bytes=100-199' });
    const wantPart = headerLines('webservice_pluginfile.backup-area.range-100-199');
    expect(part.status).toBe(206);
    for (const h of ['etag', 'content-range', 'content-length']) expect([h, part.headers.get(h)]).toEqual([h, wantPart[h]]);
    expect(Buffer.from(await part.arrayBuffer()).equals(mbz.subarray(100, 200))).toBe(true);
  });

  it('takes uploads into the draft area as the recorded site did (userid as a string, one itemid per upload)', async () => {
    const meta = fixture<Record<string, Recorded>>('_http_meta.files.json');
    const upload = async (name: string, fields: Record<string, string>, files: [string, string][]) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      for (const [filename, text] of files) form.append(`file_${filename}`, new Blob([text]), filename);
      const res = await fetch(`${sim.sites.fixture.url}/webservice/upload.php`, { method: 'POST', body: form });
      expect([name, res.headers.get('content-type')]).toEqual([name, meta[name].content_type]);
      return { body: JSON.parse(await res.text()) as unknown, recorded: fixture(`${name}.json`) };
    };
    const one = await upload('webservice_upload', { token, filearea: 'draft', itemid: '0' }, [
      ['upload-test.txt', 'This is a test upload for WS.\n'],
    ]);
    expect(jsonShapeDifferences(one.recorded, one.body)).toEqual([]);
    expect(one.body).toMatchObject([{ filename: 'upload-test.txt', filesize: 30, userid: '2', filepath: '/' }]);
    const two = await upload('webservice_upload.two-files', { token, filearea: 'draft', itemid: '0', filepath: '/sub/' }, [
      ['upload-test.txt', 'This is a test upload for WS.\n'],
      ['upload-second.csv', 'a,b\n1,2\n'],
    ]);
    expect(jsonShapeDifferences(two.recorded, two.body)).toEqual([]);
    const [a, b] = two.body as { itemid: number }[];
    expect(a.itemid).toBe(b.itemid);
    expect((await upload('webservice_upload.no-file', { token, filearea: 'draft' }, [])).body).toEqual([]);
    const bad = await upload('webservice_upload.invalidtoken', { token: '0123456789abcdef0123456789abcdef', filearea: 'draft' }, [
      ['x.txt', 'x'],
    ]);
    expect(bad.body).toEqual(bad.recorded);
  });

  // As a php process of its own (tests, the demo), and inside the simulator's process (the benchmarks): alike.
  describe.each([
    { how: 'as a process', inServer: false },
    { how: "in the simulator's process", inServer: true },
  ])('admin CLI stand-ins, run $how', ({ inServer }) => {
    const script = (name: string, args: string[]) => standIn(sim, inServer ? phpInServer() : sim.phpCommand, name, args);
    /** A recording without the lines the recording harness added (time, exit code), host paths and hashes made neutral. */
    const recorded = (name: string) =>
      readFileSync(join(FIXTURES, 'cli', name), 'utf8')
        .split('\n')
        .filter((l) => !/^(wall=|exit=|Command exited with)/.test(l))
        .join('\n')
        .replace(/\n+$/, '\n');
    const neutral = (text: string, paths: Record<string, string>) =>
      Object.entries(paths)
        .reduce((t, [from, to]) => t.split(from).join(to), text)
        .replace(/temp\/backup\/[0-9a-f]{32}/g, 'temp/backup/<hash>')
        .replace(/-\d{8}-\d{4}\.mbz/g, '-<date>.mbz');
    let dest: string;
    beforeAll(() => {
      dest = mkdtempSync(join(tmpdir(), 'archiver-dest-'));
    });
    afterAll(() => rmSync(dest, { recursive: true, force: true }));

    it('backup.php prints what the real one printed, traps included', async () => {
      const paths = { [dest]: '/var/backups/moodle' };
      const ok = await script('backup.php', ['--courseid=2', `--destination=${dest}`]);
      expect([ok.code, neutral(ok.output, paths)]).toEqual([0, neutral(recorded('backup_c2.stdout'), paths)]);
      const area = await script('backup.php', ['--courseid=3']);
      expect([area.code, area.output]).toEqual([0, recorded('backup_c3.no-destination.stdout')]);
      // The trap: a bad destination exits 0.
      const bad = await script('backup.php', ['--courseid=2', '--destination=/nonexistent/dir']);
      expect([bad.code, bad.output]).toEqual([0, recorded('backup_err.bad-destination.out')]);
      const missing = await script('backup.php', ['--courseid=9999', `--destination=${dest}`]);
      expect([missing.code, missing.output]).toEqual([1, recorded('backup_err.nonexistent-course.out')]);
    });

    it('restore_backup.php restores the real .mbz files and prints what the real one printed', async () => {
      const store = sim.sites.fixture.store;
      const tempdir = join(store.layout.root, 'moodledata', 'temp', 'backup');
      for (const file of readdirSync(join(FIXTURES, 'mbz'))) {
        const before = store.data.courses.length;
        const r = await script('restore_backup.php', [`--file=${join(FIXTURES, 'mbz', file)}`, '--categoryid=4']);
        const id = Number(/Restored course ID: (\d+)/.exec(r.output)?.[1]);
        expect([file, r.code]).toEqual([file, 0]);
        expect(neutral(r.output, { [tempdir]: '/var/moodledata/temp/backup' }).replace(/ID: \d+/, 'ID: N')).toBe(
          neutral(recorded('restore_c2.stdout'), {}).replace(/ID: \d+/, 'ID: N'),
        );
        // A new course in the category, with the activities the backup holds.
        expect(store.data.courses.length).toBe(before + 1);
        const course = store.course(id)!;
        expect(course.category).toBe(4);
        const listed = (readFileSync(join(FIXTURES, 'backup_mbz_listing.txt'), 'utf8').match(/activities\/[a-z]+_\d+\/module\.xml/g) ?? [])
          .length;
        if (file.includes('course-2-')) expect(course.sections.flatMap((x) => x.modules)).toHaveLength(listed);
        expect(course.sections.flatMap((x) => x.modules).length).toBeGreaterThan(0);
      }
      const badCategory = await script('restore_backup.php', [
        `--file=${join(FIXTURES, 'mbz', readdirSync(join(FIXTURES, 'mbz'))[0])}`,
        '--categoryid=9999',
      ]);
      expect([badCategory.code, badCategory.output]).toEqual([1, recorded('restore_err.bad-category.out')]);
      const missingFile = await script('restore_backup.php', ['--file=/nonexistent.mbz', '--categoryid=4']);
      expect([missingFile.code, missingFile.output]).toEqual([1, recorded('restore_err.missing-file.out')]);
      // An argument is passed whole: a space, a quote and UTF-8 in it do not split or change it.
      const odd = await script('restore_backup.php', ["--file=/nonexistent/l'été 2025 --categoryid=1.mbz", '--categoryid=4']);
      expect([odd.code, odd.output]).toEqual([1, recorded('restore_err.missing-file.out')]);
      const corrupt = join(dest, 'corrupt.mbz');
      writeFileSync(corrupt, 'not a backup');
      const broken = await script('restore_backup.php', [`--file=${corrupt}`, '--categoryid=4']);
      expect([broken.code, neutral(broken.output, { [tempdir]: '/var/moodledata/temp/backup' })]).toEqual([
        1,
        neutral(recorded('restore_err.corrupt-file.out'), {}),
      ]);
    });

    it('delete_course.php prints what the real one printed', async () => {
      expect(await script('delete_course.php', ['--help'])).toEqual({ code: 0, output: recorded('delete_course.help.out') });
      // The recorded run deleted a restored copy of the generated XS course: restore the same file, then delete it.
      const restored = await script('restore_backup.php', [
        `--file=${join(FIXTURES, 'mbz', 'backup-moodle2-course-7-genxs-20261124-1052.mbz')}`,
        '--categoryid=4',
      ]);
      const victim = sim.sites.fixture.store.course(Number(/Restored course ID: (\d+)/.exec(restored.output)![1]))!;
      const done = await script('delete_course.php', [`--courseid=${victim.id}`, '--disablerecyclebin', '--non-interactive']);
      const [head, rest] = [(t: string) => t.split('\n').slice(0, 3), (t: string) => t.split('\n').slice(3)];
      expect(done.code).toBe(0);
      expect(head(done.output)).toEqual([
        `Deleting course id ${victim.id}`,
        `Course name: ${victim.fullname}`,
        `Short name: ${victim.shortname}`,
      ]);
      expect(head(recorded('delete_course_c8.stdout'))).toEqual([
        'Deleting course id 8',
        'Course name: Generated XS course copy 1',
        'Short name: GENXS_1',
      ]);
      expect(rest(done.output)).toEqual(rest(recorded('delete_course_c8.stdout')));
      expect(sim.sites.fixture.store.course(victim.id)).toBeUndefined();
      expect(await script('delete_course.php', ['--courseid=9999', '--non-interactive'])).toEqual({
        code: 1,
        output: recorded('delete_course_err.nonexistent.out'),
      });
    });
  });

  it('names exception classes as 4.5 does, or as older releases do by a version setting', async () => {
    const call = async () => {
      const res = await fetch(`${sim.sites.fixture.url}/webservice/rest/server.php`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'wstoken=0123456789abcdef0123456789abcdef&wsfunction=core_webservice_get_site_info&moodlewsrestformat=json',
      });
      return (await res.json()) as { exception: string; errorcode: string };
    };
    expect(await call()).toMatchObject({ exception: 'core\\exception\\moodle_exception', errorcode: 'invalidtoken' });
    sim.sites.fixture.store.data.settings.namespacedExceptions = false;
    try {
      expect(await call()).toMatchObject({ exception: 'moodle_exception', errorcode: 'invalidtoken' });
    } finally {
      sim.sites.fixture.store.data.settings.namespacedExceptions = true;
    }
  });

  it('finds differences when there are some (the comparison itself can fail)', () => {
    expect(jsonShapeDifferences({ a: 1, b: [{ id: 1, x: null }] }, { a: '1', b: [{ id: 1, x: 'y' }], c: 2 })).toEqual([
      '$.a: number recorded, string simulated',
      '$.b[id=1].x: null recorded, string simulated',
      '$.c: simulated, not recorded',
    ]);
    expect(xmlSkeleton('<RESPONSE><SINGLE><KEY name="a"><VALUE null="null"/></KEY></SINGLE></RESPONSE>')).toEqual([
      'RESPONSE',
      'RESPONSE/SINGLE',
      'RESPONSE/SINGLE/a',
      'RESPONSE/SINGLE/a:null',
    ]);
  });
});

/** Recordings of a real 4.5.11 where the simulator once differed (scripts/record-real-fixtures.ts). */
const REAL = join(import.meta.dirname, 'fixtures', 'moodle-4.5.11');
const real = (name: string) => readFileSync(join(REAL, name), 'utf8');

describe('the simulator against recordings of a real Moodle 4.5.11', () => {
  const token = 'c0ffee00c0ffee00c0ffee00c0ffee00';
  let dir: string;
  let sim: RunningSimulator;
  const script = (name: string, args: string[]) => standIn(sim, sim.phpCommand, name, args);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'archiver-contract-real-'));
    new SiteStore(join(dir, 'fixture'), fixtureSiteData(token));
    sim = await startSimulator({ dataDir: dir, sites: [{ siteId: 'fixture' }] });
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers names through format_string: tags stripped, &, < and > escaped, entities and quotes left', async () => {
    const recorded = JSON.parse(real('names.format_string.json')) as {
      raw: { fullname: string; shortname: string };
      answered: { fullname: string; shortname: string; displayname: string };
    }[];
    const store = sim.sites.fixture.store;
    const course = store.data.courses.find((c) => c.format !== 'site')!;
    for (const { raw, answered } of recorded) {
      Object.assign(course, raw);
      store.save();
      const res = await fetch(`${sim.sites.fixture.url}/webservice/rest/server.php`, {
        method: 'POST',
        body: new URLSearchParams({
          wstoken: token,
          wsfunction: 'core_course_get_courses_by_field',
          moodlewsrestformat: 'json',
          field: 'id',
          value: String(course.id),
        }),
      });
      const [got] = ((await res.json()) as { courses: Record<string, unknown>[] }).courses;
      expect({ fullname: got.fullname, shortname: got.shortname, displayname: got.displayname }).toEqual(answered);
    }
  });

  it("prints backup.php's 4.5.11 help, and refuses to restore a backup whose full name holds markup as 4.5.11 does", async () => {
    expect(await script('backup.php', ['--help'])).toEqual({ code: 0, output: real('backup.help.out') });
    const store = sim.sites.fixture.store;
    const course = store.data.courses.find((c) => c.format !== 'site')!;
    course.fullname = '<b>Bold</b> course';
    store.save();
    const dest = mkdtempSync(join(tmpdir(), 'archiver-markup-'));
    const made = await script('backup.php', [`--courseid=${course.id}`, `--destination=${dest}`]);
    const file = /^Writing (.+\.mbz)$/m.exec(made.output)![1];
    const before = store.data.courses.length;
    const r = await script('restore_backup.php', [`--file=${file}`, '--categoryid=4']);
    const neutral = `${r.output
      .replace(/temp\/backup\/[0-9a-f]{32}/g, 'temp/backup/<hash>')
      .split(join(store.layout.root, 'moodledata'))
      .join('<dataroot>')}exit=${r.code}\n`;
    expect(neutral).toBe(real('restore_err.markup-name.out'));
    // Refused before its placeholder course is made.
    expect(store.data.courses.length).toBe(before);
  });

  it("carries a course's users in users.xml as a real backup does, and a restore enrols them", async () => {
    // The reader, on a real backup's users.xml: everyone enrolled in the course is there.
    const enrolled = JSON.parse(real('backup.users.enrolled.json')) as string[];
    expect(enrolled.length).toBeGreaterThan(0);
    expect(usersOf(real('backup.users.xml'))).toEqual(expect.arrayContaining(enrolled));
    // The simulator's own backup of a course with students, restored into the site.
    const store = sim.sites.fixture.store;
    const course = store.data.courses.find((c) => c.format !== 'site')!;
    course.fullname = 'With students';
    course.students = ['ann', 'bob'];
    store.save();
    const dest = mkdtempSync(join(tmpdir(), 'archiver-users-'));
    const made = await script('backup.php', [`--courseid=${course.id}`, `--destination=${dest}`]);
    const file = /^Writing (.+\.mbz)$/m.exec(made.output)![1];
    const extracted = mkdtempSync(join(tmpdir(), 'archiver-users-x-'));
    expect((await readMbz(file, extracted)).users).toEqual(['ann', 'bob']);
    const r = await script('restore_backup.php', [`--file=${file}`, '--categoryid=4']);
    const id = Number(/Restored course ID: (\d+)/.exec(r.output)![1]);
    expect(store.course(id)?.students).toEqual(['ann', 'bob']);
    expect(store.data.users).toEqual(expect.arrayContaining(['ann', 'bob']));
  });

  it('answers a Range past the end with the whole file, and ignores If-Range', async () => {
    const recorded = JSON.parse(real('download.ranges.json')) as {
      pastEnd: { status: number; contentRange: string | null };
      staleIfRange: { status: number; contentRange: string | null };
    };
    const store = sim.sites.fixture.store;
    const name = 'backup-moodle2-course-3-arch201-20261124-1056.mbz';
    const mbz = readFileSync(join(FIXTURES, 'mbz', name));
    mkdirSync(store.layout.backupArea(3), { recursive: true });
    writeFileSync(join(store.layout.backupArea(3), name), mbz);
    const url = `${sim.sites.fixture.url}/webservice/pluginfile.php/${store.course(3)!.contextid}/backup/course/${name}?token=${token}`;
    const past = await fetch(url, { headers: { range: `bytes=${mbz.length + 10}-` } });
    expect([past.status, past.headers.get('content-range'), (await past.arrayBuffer()).byteLength]).toEqual([
      recorded.pastEnd.status,
      recorded.pastEnd.contentRange,
      mbz.length,
    ]);
    const stale = await fetch(url, { headers: { range: 'bytes=100-', 'if-range': '"ffffffffffffffffffffffffffffffffffffffff"' } });
    expect([stale.status, (await stale.arrayBuffer()).byteLength]).toEqual([recorded.staleIfRange.status, mbz.length - 100]);
  });

  it('moves what a real Moodle moves when a teacher edits a course: the source fingerprint sees each edit, not a backup', async () => {
    type Answers = { course: unknown; contents: unknown };
    const recorded = JSON.parse(real('source-edits.json')) as {
      initial: Answers;
      steps: { edit: TeacherEdit | 'backup'; after: Answers }[];
    };
    const fingerprint = (a: Answers) => sourceFingerprint(Course.parse(a.course), z.array(Section).parse(a.contents));
    const realMoves: Record<string, string[]> = {};
    let before = fingerprint(recorded.initial);
    for (const { edit, after } of recorded.steps) {
      const now = fingerprint(after);
      realMoves[edit] = fingerprintChanges(before, now);
      before = now;
    }
    // What the archiver relies on: every teacher edit shows. Student work does not (the web services show none of it).
    expect(realMoves).toEqual({
      backup: [],
      settings: ['settings', 'revision'],
      addpage: ['revision', 'activities', 'files'],
      section: ['revision', 'sections'],
      uploadfile: ['files'],
      pagetext: ['files'],
      hide: ['revision', 'activities', 'files'],
      forumpost: [],
    });
    // The simulator moves the same parts, edit for edit.
    const store = sim.sites.fixture.store;
    const course = store.data.courses.find((c) =>
      ['page', 'resource'].every((m) => c.sections.some((s) => s.modules.some((x) => x.modname === m))),
    )!;
    const client = new MoodleClient({ siteId: 'fixture', url: sim.sites.fixture.url, token });
    const dest = mkdtempSync(join(tmpdir(), 'archiver-edits-'));
    const simMoves: Record<string, string[]> = {};
    let simBefore = (await liveFingerprint(client, course.id))!;
    // Moodle's times are seconds, and the recording's edits were a second apart: so are these.
    let clock = Math.floor(Date.now() / 1000);
    for (const { edit } of recorded.steps) {
      if (edit === 'backup') expect((await script('backup.php', [`--courseid=${course.id}`, `--destination=${dest}`])).code).toBe(0);
      else teacherEdit(store, course.id, edit, ++clock);
      const now = (await liveFingerprint(client, course.id))!;
      simMoves[edit] = fingerprintChanges(simBefore, now);
      simBefore = now;
    }
    expect(simMoves).toEqual(realMoves);
  });
});
