// Records what a real Moodle 4.5 does where the simulator once differed, into
// test/fixtures/moodle-4.5.11/, for the contract tests (test/contract.test.ts):
// names answered through format_string, backup.php's --help, restore's refusal
// of a name with markup, a download's Range past the end and stale If-Range,
// a backup's users.xml beside the course's enrolled users, and what each
// kind of teacher edit moves in the answers that fingerprint a source course.
//
//   tsx scripts/record-real-fixtures.ts DIR/sites.json [--only source-edits]   (a stand-up's sites, as root)
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MoodleClient } from '../activities/moodle/client';

const run = promisify(execFile);
const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'moodle-4.5.11');

interface Site {
  id: string;
  wwwroot: string;
  token: string;
  moodleDir: string;
  cli: string[];
  staging: string;
  dataroot: string;
  pgPort: number;
  dbName: string;
}

/** Runs a command, keeping stdout, stderr and the exit code whatever it is. */
async function capture(cmd: string[]): Promise<{ output: string; stdout: string; exit: number }> {
  const [bin, ...args] = cmd;
  return run(bin, args, { maxBuffer: 10 * 1024 * 1024 }).then(
    (r) => ({ output: r.stdout + r.stderr, stdout: r.stdout, exit: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => ({ output: e.stdout + e.stderr, stdout: e.stdout, exit: e.code }),
  );
}

async function main(sitesJson: string, only?: string) {
  const { sites, makeCourses } = JSON.parse(readFileSync(sitesJson, 'utf8')) as { sites: Site[]; makeCourses: string };
  const [prod, archive] = ['prod', 'archive'].map((id) => sites.find((s) => s.id === id)!);
  mkdirSync(OUT, { recursive: true });
  if (only === 'source-edits') return recordSourceEdits(prod, makeCourses);
  if (only) throw new Error(`--only: "${only}" is not a section; the one that runs alone is "source-edits"`);
  const stamp = Date.now().toString(36).toUpperCase();
  const names = [
    { shortname: `FX-AMP-${stamp}`, fullname: 'Maths & Physics: caf&eacute; > 3 "quoted"' },
    { shortname: `FX-TAG-${stamp}`, fullname: '<b>Bold</b> course' },
  ];
  const made = await capture([
    ...prod.cli,
    makeCourses,
    `--moodle=${prod.moodleDir}`,
    '--category=Fixtures',
    `--shortnames=${names.map((n) => n.shortname).join(',')}`,
    `--fullnames=${names.map((n) => n.fullname).join('|')}`,
  ]);
  const courses = (JSON.parse(made.stdout.trim().split('\n').pop()!) as { courses: { id: number; shortname: string }[] }).courses;

  // 1. Names as the web services answer them, beside the raw names.
  const moodle = new MoodleClient({ siteId: 'prod', url: prod.wwwroot, token: prod.token });
  const answered = await Promise.all(
    courses.map(async (c, i) => {
      const res = await fetch(`${prod.wwwroot}/webservice/rest/server.php`, {
        method: 'POST',
        body: new URLSearchParams({
          wstoken: prod.token,
          wsfunction: 'core_course_get_courses_by_field',
          moodlewsrestformat: 'json',
          field: 'id',
          value: String(c.id),
        }),
      });
      const [course] = ((await res.json()) as { courses: Record<string, unknown>[] }).courses;
      return { raw: names[i], answered: { fullname: course.fullname, shortname: course.shortname, displayname: course.displayname } };
    }),
  );
  writeFileSync(join(OUT, 'names.format_string.json'), `${JSON.stringify(answered, null, 2)}\n`);

  // 2. backup.php --help as 4.5.11 prints it.
  const help = await capture([...prod.cli, join(prod.moodleDir, 'admin', 'cli', 'backup.php'), '--help']);
  writeFileSync(join(OUT, 'backup.help.out'), help.output);

  // 3. restore_backup.php on a backup whose full name holds markup.
  const tagged = courses[1];
  await capture([
    ...prod.cli,
    join(prod.moodleDir, 'admin', 'cli', 'backup.php'),
    `--courseid=${tagged.id}`,
    `--destination=${archive.staging}`,
  ]);
  const file = readdirSync(archive.staging).find((f) => f.includes(`-course-${tagged.id}-`))!;
  const restore = await capture([
    ...archive.cli,
    join(archive.moodleDir, 'admin', 'cli', 'restore_backup.php'),
    `--file=${join(archive.staging, file)}`,
    '--categoryid=1',
  ]);
  writeFileSync(
    join(OUT, 'restore_err.markup-name.out'),
    `${restore.output
      .replace(/temp\/backup\/[0-9a-f]{32}/g, 'temp/backup/<hash>')
      .split(archive.dataroot)
      .join('<dataroot>')}exit=${restore.exit}\n`,
  );

  // 4. A backup-area download: a Range past the end, and a Range with a stale If-Range.
  await capture([...prod.cli, join(prod.moodleDir, 'admin', 'cli', 'backup.php'), `--courseid=${courses[0].id}`]);
  const [stored] = await moodle.backupAreaFiles(courses[0].id);
  const url = `${prod.wwwroot}/webservice/pluginfile.php${new URL(stored.url).pathname.replace(/^.*?\/pluginfile\.php/, '')}?token=${prod.token}`;
  const ask = async (headers: Record<string, string>) => {
    const res = await fetch(url, { headers });
    const body = await res.arrayBuffer();
    return { request: headers, status: res.status, bytes: body.byteLength, contentRange: res.headers.get('content-range') };
  };
  const downloads = {
    filesize: stored.filesize,
    pastEnd: await ask({ range: `bytes=${stored.filesize + 10}-` }),
    staleIfRange: await ask({ range: 'bytes=100-', 'if-range': '"ffffffffffffffffffffffffffffffffffffffff"' }),
  };
  writeFileSync(join(OUT, 'download.ranges.json'), `${JSON.stringify(downloads, null, 2)}\n`);

  // 5. A backup's users.xml (backup.php keeps users by default), beside who is enrolled in the course.
  const withUsers = courses[0];
  await capture([
    ...prod.cli,
    join(prod.moodleDir, 'admin', 'cli', 'backup.php'),
    `--courseid=${withUsers.id}`,
    `--destination=${archive.staging}`,
  ]);
  const mbz = readdirSync(archive.staging).find((f) => f.includes(`-course-${withUsers.id}-`) && f.endsWith('.mbz'))!;
  const usersXml = await run('tar', ['-xzOf', join(archive.staging, mbz), 'users.xml'], { maxBuffer: 64 * 1024 * 1024 });
  writeFileSync(join(OUT, 'backup.users.xml'), usersXml.stdout);
  const enrolled = await run('psql', [
    '-h',
    '127.0.0.1',
    '-p',
    String(prod.pgPort),
    '-U',
    'postgres',
    '-d',
    prod.dbName,
    '-qtA',
    '-c',
    `SELECT DISTINCT u.username FROM mdl_user u JOIN mdl_user_enrolments ue ON ue.userid = u.id JOIN mdl_enrol e ON e.id = ue.enrolid WHERE e.courseid = ${withUsers.id} ORDER BY 1`,
  ]);
  writeFileSync(join(OUT, 'backup.users.enrolled.json'), `${JSON.stringify(enrolled.stdout.split('\n').filter(Boolean), null, 2)}\n`);
  await recordSourceEdits(prod, makeCourses);
  console.log(`recorded into ${OUT}`);
}

/** 6. A backup, then each teacher edit in turn (scripts/teacher-edits.php), and the course's two answers after each. */
async function recordSourceEdits(prod: Site, makeCourses: string) {
  const made = await capture([
    ...prod.cli,
    makeCourses,
    `--moodle=${prod.moodleDir}`,
    '--category=Fixtures',
    '--count=1',
    `--prefix=FX-EDIT-${Date.now().toString(36)}`,
  ]);
  const courseid = (JSON.parse(made.stdout.trim().split('\n').pop()!) as { courses: { id: number }[] }).courses[0].id;
  const ws = async (wsfunction: string, params: Record<string, string>) => {
    const body = new URLSearchParams({ wstoken: prod.token, wsfunction, moodlewsrestformat: 'json', ...params });
    return (await fetch(`${prod.wwwroot}/webservice/rest/server.php`, { method: 'POST', body })).json() as Promise<unknown>;
  };
  const answers = async () => ({
    course: ((await ws('core_course_get_courses_by_field', { field: 'id', value: String(courseid) })) as { courses: unknown[] }).courses[0],
    contents: await ws('core_course_get_contents', { courseid: String(courseid) }),
  });
  const site = (await ws('core_webservice_get_site_info', {})) as { release: string };
  const initial = await answers();
  const steps = [];
  const dest = mkdtempSync(join(tmpdir(), 'archiver-edits-'));
  await run('chmod', ['777', dest]);
  const editor = join(import.meta.dirname, 'teacher-edits.php');
  for (const edit of ['backup', 'settings', 'addpage', 'section', 'uploadfile', 'pagetext', 'hide', 'forumpost']) {
    // Moodle's times are in seconds: an edit in the same second as the one before would move nothing visible.
    await new Promise((r) => setTimeout(r, 1100));
    const cmd =
      edit === 'backup'
        ? [...prod.cli, join(prod.moodleDir, 'admin/cli/backup.php'), `--courseid=${courseid}`, `--destination=${dest}`]
        : [...prod.cli, editor, prod.moodleDir, edit, String(courseid)];
    const r = await capture(cmd);
    if (r.exit !== 0) throw new Error(`${edit}: ${r.output}`);
    steps.push({ edit, after: await answers() });
  }
  writeFileSync(join(OUT, 'source-edits.json'), JSON.stringify({ recorded: `Moodle ${site.release}`, initial, steps }));
}

const only = process.argv.indexOf('--only');
await main(process.argv[2] ?? `${process.env.MOODLE_SITES_JSON}`, only > 0 ? process.argv[only + 1] : undefined);
