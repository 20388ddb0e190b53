// The .mbz format as Moodle writes it: a gzip'd ustar archive whose first
// entry is .ARCHIVE_INDEX, with moodle_backup.xml at the root, course/,
// sections/, activities/ and files/<hash[0:2]>/<sha1>. The restore side
// also reads real Moodle backups (shared/fixtures/moodle/mbz).
import { TarArchive } from 'archiver';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, existsSync, type Stats } from 'node:fs';
import { dirname, join, posix, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { XMLParser } from 'fast-xml-parser';
import * as tar from 'tar-stream';
import { sha1, type FileBytes } from './content';
import type { SimCategory, SimCourse, SimFile, SiteSettings } from './state';

const NULL = '$@NULL@$';
const esc = (s: string | number) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const xml = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;

/** Moodle's default name: backup-moodle2-course-{id}-{shortname}-{YYYYMMDD-HHMM}.mbz */
export function defaultBackupFilename(course: SimCourse, when = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const date = `${when.getFullYear()}${p(when.getMonth() + 1)}${p(when.getDate())}-${p(when.getHours())}${p(when.getMinutes())}`;
  const short = course.shortname
    .replace(/\s+/g, '_')
    .replace(/[^A-Za-z0-9_.-]/g, '')
    .toLowerCase();
  return `backup-moodle2-course-${course.id}-${short}-${date}.mbz`;
}

interface Entry {
  name: string;
  data: FileBytes;
}
const sizeOf = (d: FileBytes) => (Buffer.isBuffer(d) ? d.length : d.size);
const hashOf = (d: FileBytes) => (Buffer.isBuffer(d) ? sha1(d) : d.sha1);

export async function writeMbz(
  dest: string,
  course: SimCourse,
  category: SimCategory | undefined,
  settings: SiteSettings,
  wwwroot: string,
  contentOf: (f: SimFile) => FileBytes,
): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const activities = course.sections.flatMap((s) => s.modules.map((m) => ({ s, m })));
  const entries: Entry[] = [];
  const add = (name: string, data: string | FileBytes) => entries.push({ name, data: typeof data === 'string' ? Buffer.from(data) : data });

  add(
    'moodle_backup.xml',
    xml(`<moodle_backup>
  <information>
    <name>${esc(dest.split('/').pop()!)}</name>
    <moodle_version>${settings.version}</moodle_version>
    <moodle_release>${esc(settings.release)}</moodle_release>
    <backup_version>2024100700</backup_version>
    <backup_release>4.5</backup_release>
    <backup_date>${now}</backup_date>
    <mnet_remoteusers>0</mnet_remoteusers>
    <include_files>1</include_files>
    <include_file_references_to_external_content>0</include_file_references_to_external_content>
    <original_wwwroot>${esc(wwwroot)}</original_wwwroot>
    <original_site_identifier_hash>${createHash('md5').update(wwwroot).digest('hex')}</original_site_identifier_hash>
    <original_course_id>${course.id}</original_course_id>
    <original_course_format>${course.format}</original_course_format>
    <original_course_fullname>${esc(course.fullname)}</original_course_fullname>
    <original_course_shortname>${esc(course.shortname)}</original_course_shortname>
    <original_course_startdate>${course.startdate}</original_course_startdate>
    <original_course_enddate>${course.enddate}</original_course_enddate>
    <original_course_contextid>${course.contextid}</original_course_contextid>
    <original_system_contextid>1</original_system_contextid>
    <details>
      <detail backup_id="${createHash('md5').update(`${course.id}:${now}`).digest('hex')}">
        <type>course</type>
        <format>moodle2</format>
        <interactive>1</interactive>
        <mode>10</mode>
        <execution>1</execution>
        <executiontime>0</executiontime>
      </detail>
    </details>
    <contents>
      <activities>
${activities
  .map(
    ({ s, m }) => `        <activity>
          <moduleid>${m.id}</moduleid>
          <sectionid>${s.id}</sectionid>
          <modulename>${m.modname}</modulename>
          <title>${esc(m.name)}</title>
          <directory>activities/${m.modname}_${m.id}</directory>
          <insubsection></insubsection>
        </activity>`,
  )
  .join('\n')}
      </activities>
      <sections>
${course.sections
  .map(
    (s) => `        <section>
          <sectionid>${s.id}</sectionid>
          <title>${esc(s.name || String(s.section))}</title>
          <directory>sections/section_${s.id}</directory>
          <parentcmid></parentcmid>
          <modname></modname>
        </section>`,
  )
  .join('\n')}
      </sections>
      <course>
        <courseid>${course.id}</courseid>
        <title>${esc(course.shortname)}</title>
        <directory>course</directory>
      </course>
    </contents>
    <settings>
      <setting><level>root</level><name>filename</name><value>${esc(dest.split('/').pop()!)}</value></setting>
      <setting><level>root</level><name>users</name><value>1</value></setting>
      <setting><level>root</level><name>activities</name><value>1</value></setting>
      <setting><level>root</level><name>files</name><value>1</value></setting>
    </settings>
  </information>
</moodle_backup>
`),
  );
  add(
    'course/course.xml',
    xml(`<course id="${course.id}" contextid="${course.contextid}">
  <shortname>${esc(course.shortname)}</shortname>
  <fullname>${esc(course.fullname)}</fullname>
  <idnumber>${esc(course.idnumber)}</idnumber>
  <summary>${esc(course.summary)}</summary>
  <summaryformat>1</summaryformat>
  <format>${course.format}</format>
  <startdate>${course.startdate}</startdate>
  <enddate>${course.enddate}</enddate>
  <visible>${course.visible}</visible>
  <timecreated>${course.timecreated}</timecreated>
  <timemodified>${course.timemodified}</timemodified>
  <category id="${course.category}">
    <name>${esc(category?.name ?? '')}</name>
    <description>${esc(category?.description ?? '')}</description>
  </category>
</course>
`),
  );
  // With users: who is enrolled travels with the course (users.xml), as in a real backup.
  add(
    'users.xml',
    xml(`<users>
${(course.students ?? []).map((u, i) => `  <user id="${i + 2}"><username>${esc(u)}</username><auth>manual</auth><mnethostid>1</mnethostid></user>`).join('\n')}
</users>
`),
  );
  for (const s of course.sections) {
    add(
      `sections/section_${s.id}/section.xml`,
      xml(`<section id="${s.id}">
  <number>${s.section}</number>
  <name>${s.name ? esc(s.name) : NULL}</name>
  <summary>${esc(s.summary)}</summary>
  <summaryformat>1</summaryformat>
  <sequence>${s.modules.map((m) => m.id).join(',')}</sequence>
  <visible>${s.visible}</visible>
</section>
`),
    );
  }
  const files: { f: SimFile; contextid: number; component: string; data: FileBytes }[] = [];
  for (const { s, m } of activities) {
    add(
      `activities/${m.modname}_${m.id}/module.xml`,
      xml(`<module id="${m.id}" version="2024100700">
  <modulename>${m.modname}</modulename>
  <sectionid>${s.id}</sectionid>
  <sectionnumber>${s.section}</sectionnumber>
  <visible>${m.visible}</visible>
</module>
`),
    );
    add(
      `activities/${m.modname}_${m.id}/${m.modname}.xml`,
      xml(`<activity id="${m.instance}" moduleid="${m.id}" modulename="${m.modname}" contextid="${m.contextid}">
  <${m.modname} id="${m.instance}">
    <name>${esc(m.name)}</name>
  </${m.modname}>
</activity>
`),
    );
    for (const f of m.files) files.push({ f, contextid: m.contextid, component: `mod_${m.modname}`, data: contentOf(f) });
  }
  add(
    'files.xml',
    xml(`<files>
${files
  .map(
    ({ f, contextid, component, data }) => `  <file id="${f.id}">
    <contenthash>${hashOf(data)}</contenthash>
    <contextid>${contextid}</contextid>
    <component>${component}</component>
    <filearea>content</filearea>
    <itemid>0</itemid>
    <filepath>${esc(f.filepath)}</filepath>
    <filename>${esc(f.filename)}</filename>
    <userid>${NULL}</userid>
    <filesize>${f.filesize}</filesize>
    <mimetype>${esc(f.mimetype)}</mimetype>
    <status>0</status>
    <timecreated>${f.timecreated}</timecreated>
    <timemodified>${f.timemodified}</timemodified>
  </file>`,
  )
  .join('\n')}
</files>
`),
  );
  const stored = new Set<string>();
  for (const { data } of files) {
    const h = hashOf(data);
    if (!stored.has(h)) add(`files/${h.slice(0, 2)}/${h}`, data);
    stored.add(h);
  }

  const index =
    [`Moodle archive file index. Count: ${entries.length}`, ...entries.map((e) => `${e.name}\tf\t${sizeOf(e.data)}\t${now}`)].join('\n') +
    '\n';

  mkdirSync(dirname(dest), { recursive: true });
  const archive = new TarArchive({ gzip: true });
  const done = pipeline(archive, createWriteStream(dest));
  archive.append(Buffer.from(index), { name: '.ARCHIVE_INDEX', date: new Date('2013-01-01T00:00:00Z') });
  for (const e of entries) {
    const date = new Date(now * 1000);
    if (Buffer.isBuffer(e.data)) archive.append(e.data, { name: e.name, date });
    // A stream of known size goes straight into the tar; without its size, archiver would buffer it whole.
    else archive.append(e.data.stream(), { name: e.name, date, mode: 0o644, stats: { size: e.data.size } as Stats });
  }
  await archive.finalize();
  await done;
}

/**
 * Reads an .mbz (tar.gz) as restore_backup.php does: what a restore needs, from its XML, and its stored files
 * (files/<xx>/<sha1>) extracted into dir, its temp dir. The XML stays in memory: a simulated host spends no file
 * per section and activity, and the benchmarks measure the orchestrator, not the stand-in's disk work.
 */
export async function readMbz(file: string, dir: string): Promise<BackupContents> {
  const xmlFiles = new Map<string, string>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = posix.normalize(header.name);
    const target = join(dir, name);
    if (header.type !== 'file' || !target.startsWith(dir + sep)) {
      stream.resume();
      next();
    } else if (name.startsWith('files/')) {
      mkdirSync(dirname(target), { recursive: true });
      pipeline(stream, createWriteStream(target)).then(() => next(), next);
    } else if (name.endsWith('.xml')) {
      const chunks: Buffer[] = [];
      stream.on('data', (c) => void chunks.push(c as Buffer));
      stream.on('error', next);
      stream.on('end', () => {
        xmlFiles.set(name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    } else {
      stream.resume();
      next();
    }
  });
  await pipeline(createReadStream(file), createGunzip(), extract);
  return backupContents((p) => xmlFiles.get(p));
}

export interface BackupContents {
  originalCourseId: number;
  course: {
    fullname: string;
    shortname: string;
    idnumber: string;
    summary: string;
    format: string;
    startdate: number;
    enddate: number;
    visible: number;
  };
  sections: { id: number; number: number; name: string; summary: string; visible: number; sequence: number[] }[];
  activities: { moduleid: number; sectionid: number; modulename: string; title: string; contextid: number; visible: number }[];
  /** Usernames of the students it enrols (users.xml). */
  users: string[];
  files: {
    contenthash: string;
    contextid: number;
    component: string;
    filepath: string;
    filename: string;
    filesize: number;
    mimetype: string;
    timecreated: number;
    timemodified: number;
  }[];
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, trimValues: true });
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const str = (v: unknown) => (v === undefined || v === NULL || typeof v === 'object' ? '' : String(v));
const num = (v: unknown) => Number(str(v) || 0);

/** The usernames a backup's users.xml carries (a backup with users: enrolled students, teachers, ...). */
export function usersOf(usersXml: string): string[] {
  return asArray(parser.parse(usersXml).users?.user).map((u: { username: unknown }) => str(u.username));
}

/** What a restore needs to rebuild the course, from a backup's XML files (undefined: not in the backup). */
function backupContents(xmlFile: (path: string) => string | undefined): BackupContents {
  const read = (p: string) => {
    const text = xmlFile(p);
    if (text === undefined) throw new Error(`${p} is not in the backup`);
    return parser.parse(text);
  };
  const usersXml = xmlFile('users.xml');
  const info = read('moodle_backup.xml').moodle_backup.information;
  const c = read('course/course.xml').course;
  const sectionDirs = asArray(info.contents.sections?.section);
  const sections = sectionDirs.map((sd: { directory: string }) => {
    const s = read(`${sd.directory}/section.xml`).section;
    return {
      id: num(s['@id']),
      number: num(s.number),
      name: str(s.name),
      summary: str(s.summary),
      visible: num(s.visible ?? 1),
      sequence: str(s.sequence).split(',').filter(Boolean).map(Number),
    };
  });
  const activities = asArray(info.contents.activities?.activity).map(
    (a: { moduleid: string; sectionid: string; modulename: string; title: string; directory: string }) => {
      const mod = read(`${a.directory}/module.xml`).module;
      const act = read(`${a.directory}/${a.modulename}.xml`).activity;
      return {
        moduleid: num(a.moduleid),
        sectionid: num(a.sectionid),
        modulename: str(a.modulename),
        title: str(a.title),
        contextid: num(act['@contextid']),
        visible: num(mod.visible ?? 1),
      };
    },
  );
  const filesXml = xmlFile('files.xml') === undefined ? undefined : read('files.xml').files;
  const files = asArray(filesXml?.file).map((f: Record<string, unknown>) => ({
    contenthash: str(f.contenthash),
    contextid: num(f.contextid),
    component: str(f.component),
    filepath: str(f.filepath),
    filename: str(f.filename),
    filesize: num(f.filesize),
    mimetype: str(f.mimetype),
    timecreated: num(f.timecreated),
    timemodified: num(f.timemodified),
  }));
  return {
    originalCourseId: num(info.original_course_id),
    course: {
      fullname: str(c.fullname),
      shortname: str(c.shortname),
      idnumber: str(c.idnumber),
      summary: str(c.summary),
      format: str(c.format) || 'topics',
      startdate: num(c.startdate),
      enddate: num(c.enddate),
      visible: num(c.visible ?? 1),
    },
    sections,
    activities,
    files,
    users: usersXml === undefined ? [] : usersOf(usersXml),
  };
}

/** Files stored in an extracted backup, by content hash. */
export function backupFilePath(dir: string, contenthash: string): string | undefined {
  const p = join(dir, 'files', contenthash.slice(0, 2), contenthash);
  return existsSync(p) ? p : undefined;
}
