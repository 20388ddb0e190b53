// A simulated Moodle site's database: categories, courses, sections, modules
// and files, persisted as one JSON file so a restart keeps state.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { contentStream, generateContent, type FileBytes } from './content';

export interface SimFile {
  id: number;
  filename: string;
  filepath: string;
  /** Declared size, what Moodle reports (may exceed the bytes actually stored in the demo). */
  filesize: number;
  /** Bytes actually stored or generated for this file. */
  bytes: number;
  mimetype: string;
  contenthash: string;
  /** Content is generated from this seed when the file is not in the filedir. */
  seed?: string;
  /** For a URL module: the link it points to (its "file" is the link). */
  url?: string;
  timecreated: number;
  timemodified: number;
}

export interface SimModule {
  id: number; // cmid
  modname: string;
  name: string;
  instance: number;
  contextid: number;
  visible: number;
  files: SimFile[];
}

export interface SimSection {
  id: number;
  section: number;
  name: string;
  summary: string;
  visible: number;
  modules: SimModule[];
}

export interface SimCourse {
  id: number;
  category: number;
  fullname: string;
  shortname: string;
  idnumber: string;
  summary: string;
  format: string;
  startdate: number;
  enddate: number;
  visible: number;
  contextid: number;
  timecreated: number;
  timemodified: number;
  /** Moodle's revision of the course's contents: moves on any change of its modules or sections (teacher-edits.ts). */
  cacherev?: number;
  sections: SimSection[];
  /** Teachers shown as course contacts. */
  contacts?: { id: number; fullname: string }[];
  /** Usernames of its enrolled students; a backup with users carries them, a restore enrols them. */
  students?: string[];
}

export interface SimCategory {
  id: number;
  name: string;
  idnumber: string | null;
  description: string;
  descriptionformat: number;
  parent: number;
  sortorder: number;
  visible: number;
  timemodified: number;
  depth: number;
  path: string;
}

/** A fault the test or demo injects: the next matching admin-CLI runs fail. */
export interface SimFault {
  script: 'backup' | 'restore' | 'delete';
  courseId?: number;
  shortname?: string;
  /** How many runs fail; -1 for always. */
  times: number;
  /** What goes wrong: the run fails (default), or a restore succeeds but quietly loses an activity
   * (a module type the target lacks, as happens between differently equipped sites). */
  effect?: 'fail' | 'lose-activity';
}

/** What a site does instead of answering a web-service call: each class of failure a real site can show. */
export interface RestFault {
  /** Only calls of this function (all calls when absent). */
  function?: string;
  kind:
    | 'webservices-disabled' // web services or REST off: HTTP 403, empty body
    | 'http-503' // the web server or a proxy in front of Moodle is down
    | 'drop-connection' // the connection is cut before any answer
    | 'slow' // answers after `seconds`, past a client's timeout
    | 'dml-read' // dml_read_exception: the database failed a read
    | 'maintenance' // the site is in maintenance mode
    | 'nopermissions' // the token's user lacks a capability the function requires
    // A site that shows what it was sent: an invalid-parameter error whose debug info quotes the request (the token
    // in it, plain and JSON-escaped), a PHP error page echoing the form, a redirect (a wwwroot moved) whose address
    // keeps the token.
    | 'echo-in-debuginfo'
    | 'echo-in-html'
    | 'redirect';
  seconds?: number;
  /** How many calls fail; -1 for all. */
  times: number;
}

export interface SiteSettings {
  siteId: string;
  sitename: string;
  release: string;
  version: string;
  /** 4.5+ namespaces exception classes (core\exception\...); older sites do not. */
  namespacedExceptions: boolean;
  /** Include debuginfo in errors, as a site with debugging on does. */
  debug: boolean;
  /** Token -> allowed functions (all when null). */
  tokens: Record<string, { functions: string[] | null }>;
  /** Seconds of simulated admin-CLI work per declared MB and per activity, and a fixed cost;
   * requestSeconds: what each web-service call and file download waits before it is served. */
  latency: { fixedSeconds: number; secondsPerMB: number; secondsPerActivity: number; requestSeconds?: number };
  /** The site's outgoing bandwidth for file downloads, in bytes per second (unlimited when absent). */
  downloadBytesPerSecond?: number;
  /** The next this many backup downloads arrive with one byte flipped (a fault in flight). */
  corruptDownloads?: number;
}

export interface SiteData {
  settings: SiteSettings;
  nextId: { category: number; course: number; section: number; module: number; file: number; context: number };
  categories: SimCategory[];
  courses: SimCourse[];
  faults: SimFault[];
  /** Injected web-service failures (tests and demos). */
  restFaults?: RestFault[];
  /** Usernames of the site's users (students come and go with restores and course deletions only). */
  users?: string[];
}

export const NOW = () => Math.floor(Date.now() / 1000);

export function emptySite(settings: SiteSettings): SiteData {
  return {
    settings,
    nextId: { category: 2, course: 2, section: 1, module: 1, file: 1, context: 10 },
    categories: [
      {
        id: 1,
        name: 'Category 1',
        idnumber: null,
        description: '',
        descriptionformat: 1,
        parent: 0,
        sortorder: 10000,
        visible: 1,
        timemodified: NOW(),
        depth: 1,
        path: '/1',
      },
    ],
    courses: [],
    faults: [],
  };
}

/** Where a site keeps its files: state, filedir, temp, and its admin/cli scripts. */
export function siteLayout(siteDir: string) {
  return {
    root: siteDir,
    stateFile: join(siteDir, 'state.json'),
    configFile: join(siteDir, 'config.json'),
    filedir: join(siteDir, 'moodledata', 'filedir'),
    tempdir: join(siteDir, 'moodledata', 'temp', 'backup'),
    /** A course's backup file area (component backup, filearea course), one folder per course. */
    backupArea: (courseId: number) => join(siteDir, 'moodledata', 'backup_area', `course_${courseId}`),
    cliDir: join(siteDir, 'admin', 'cli'),
  };
}

export class SiteStore {
  readonly layout: ReturnType<typeof siteLayout>;
  data: SiteData;

  constructor(siteDir: string, initial?: SiteData) {
    this.layout = siteLayout(siteDir);
    mkdirSync(this.layout.filedir, { recursive: true });
    mkdirSync(this.layout.tempdir, { recursive: true });
    if (existsSync(this.layout.stateFile)) {
      this.data = JSON.parse(readFileSync(this.layout.stateFile, 'utf8')) as SiteData;
    } else if (initial) {
      this.data = initial;
      this.save();
    } else {
      throw new Error(`No simulated site at ${siteDir}: seed it first`);
    }
  }

  private pending?: NodeJS.Timeout;

  /** Atomic write: a crash never leaves half a state file. */
  save(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    const tmp = `${this.layout.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data));
    renameSync(tmp, this.layout.stateFile);
  }

  /** A running site's writes: at most one state-file write per second, the last on stop. With
   * 10,000 courses a write is tens of MB, which must not be paid for each web-service call. */
  saveSoon(): void {
    this.pending ??= setTimeout(() => this.save(), 1000).unref();
  }

  /** Writes a pending change now (the simulator stops). */
  flush(): void {
    if (this.pending) this.save();
  }

  newId(kind: keyof SiteData['nextId']): number {
    return this.data.nextId[kind]++;
  }

  category(id: number): SimCategory | undefined {
    return this.data.categories.find((c) => c.id === id);
  }

  course(id: number): SimCourse | undefined {
    return this.data.courses.find((c) => c.id === id);
  }

  addCategory(name: string, parent: number, idnumber: string | null, description = ''): SimCategory {
    const parentCat = parent ? this.category(parent) : undefined;
    const id = this.newId('category');
    const cat: SimCategory = {
      id,
      name,
      idnumber,
      description,
      descriptionformat: 1,
      parent,
      sortorder: id * 10000,
      visible: 1,
      timemodified: NOW(),
      depth: parentCat ? parentCat.depth + 1 : 1,
      path: `${parentCat ? parentCat.path : ''}/${id}`,
    };
    this.data.categories.push(cat);
    return cat;
  }

  /** Category X and every descendant, as Moodle's addsubcategories does. */
  subtree(id: number): SimCategory[] {
    const root = this.category(id);
    if (!root) return [];
    return this.data.categories.filter((c) => c.id === id || c.path.startsWith(`${root.path}/`));
  }

  /** Courses of a category and of all its subcategories. */
  coursesUnder(categoryId: number): SimCourse[] {
    const cats = new Set(this.subtree(categoryId).map((c) => c.id));
    return this.data.courses.filter((c) => cats.has(c.category));
  }

  /** Moodle's restore_dbops::calculate_course_names: suffix while either name is taken. */
  uniqueCourseNames(fullname: string, shortname: string): { fullname: string; shortname: string } {
    const taken = (f: string, s: string) => this.data.courses.some((c) => c.fullname === f || c.shortname === s);
    if (!taken(fullname, shortname)) return { fullname, shortname };
    for (let n = 1; ; n++) {
      const f = `${fullname} copy ${n}`;
      const s = `${shortname}_${n}`;
      if (!taken(f, s)) return { fullname: f, shortname: s };
    }
  }

  /** Takes the first web-service fault for this function, if any. */
  takeRestFault(fn: string | null): RestFault | undefined {
    const faults = this.data.restFaults ?? [];
    const fault = faults.find((f) => f.function === undefined || f.function === fn);
    if (!fault) return undefined;
    if (fault.times > 0 && --fault.times === 0) faults.splice(faults.indexOf(fault), 1);
    this.saveSoon();
    return fault;
  }

  /** Takes one matching fault, if any: returns true when this run must fail. */
  takeFault(script: SimFault['script'], course: { id?: number; shortname?: string }): SimFault['effect'] | false {
    const fault = this.data.faults.find(
      (f) =>
        f.script === script &&
        (f.courseId === undefined || f.courseId === course.id) &&
        (f.shortname === undefined || f.shortname === course.shortname),
    );
    if (!fault) return false;
    if (fault.times > 0) {
      fault.times--;
      if (fault.times === 0) this.data.faults.splice(this.data.faults.indexOf(fault), 1);
    }
    this.saveSoon();
    return fault.effect ?? 'fail';
  }
}

/** A file's bytes: from the filedir when stored there (restored files), else generated from its seed. */
export function fileContent(filedir: string, f: SimFile): Buffer {
  const stored = join(filedir, f.contenthash.slice(0, 2), f.contenthash);
  if (existsSync(stored)) return readFileSync(stored);
  return generateContent(f.seed ?? f.contenthash, f.bytes);
}

/** For a backup: large generated files as a stream of known size and hash (their contenthash is their sha1). */
export function fileBytes(filedir: string, f: SimFile): FileBytes {
  const stored = join(filedir, f.contenthash.slice(0, 2), f.contenthash);
  if (f.seed && f.bytes > 16 << 20 && !existsSync(stored))
    return { size: f.bytes, sha1: f.contenthash, stream: () => contentStream(f.seed!, f.bytes) };
  return fileContent(filedir, f);
}

export function courseDeclaredBytes(course: SimCourse): number {
  return course.sections.reduce((n, s) => n + s.modules.reduce((m, mod) => m + mod.files.reduce((k, f) => k + f.filesize, 0), 0), 0);
}

export function courseActivityCount(course: SimCourse): number {
  return course.sections.reduce((n, s) => n + s.modules.length, 0);
}
