// Seeds simulated sites: a production site holding a vintage category with
// subcategories and courses of varied sizes, and an empty archive site.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { contentSha1, generateContent, sha1 } from './content';
import { emptySite, NOW, SiteStore, type SimModule, type SiteSettings } from './state';

/** Small deterministic PRNG so a seed gives the same site every time. */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

export function defaultSettings(siteId: string, token: string): SiteSettings {
  return {
    siteId,
    sitename: `Simulated Moodle (${siteId})`,
    release: '4.5.11+ (Build: 20260501)',
    version: '2024100711.02',
    namespacedExceptions: true,
    debug: false,
    tokens: { [token]: { functions: null } },
    latency: { fixedSeconds: 0, secondsPerMB: 0, secondsPerActivity: 0 },
  };
}

export const newToken = () => randomBytes(16).toString('hex');

const MODTYPES = ['forum', 'page', 'resource', 'assign', 'label', 'url', 'quiz', 'folder'];
// Only these show their files in core_course_get_contents (an assignment's are not listed), so sizes agree everywhere.
const WITH_FILES = new Set(['resource', 'folder']);
const SUBJECTS = [
  'Mathematics',
  'Physics',
  'Chemistry',
  'Biology',
  'History',
  'Law',
  'Economics',
  'Computer Science',
  'Philosophy',
  'Linguistics',
  'Geography',
  'Sociology',
  'Statistics',
  'Medicine',
  'Architecture',
  'Music',
];

export interface VintageSeed {
  vintage: string; // e.g. 2024-2025
  courses: number;
  /** Declared course sizes in bytes, log-uniform between these. */
  minBytes: number;
  maxBytes: number;
  /** Bytes actually stored per declared byte (the demo keeps files small). */
  contentScale: number;
  /** Names of subcategories; courses are spread over the vintage and these. */
  subcategories: string[];
}

export function seedProduction(store: SiteStore, seeds: VintageSeed[], randomSeed = 42): void {
  const rnd = prng(randomSeed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  for (const v of seeds) {
    const root = store.addCategory(`Year ${v.vintage}`, 0, v.vintage, `<p>Courses of the ${v.vintage} academic year.</p>`);
    const subs = v.subcategories.map((name, i) => store.addCategory(name, root.id, `${v.vintage}-S${i + 1}`));
    const cats = [root, ...subs];
    const [y1, y2] = v.vintage.split('-').map(Number);
    for (let i = 0; i < v.courses; i++) {
      const subject = pick(SUBJECTS);
      const code = `${subject.slice(0, 4).toUpperCase()}${100 + i}`;
      const declared = Math.round(v.minBytes * Math.pow(v.maxBytes / v.minBytes, rnd()));
      const sectionCount = 3 + Math.floor(rnd() * 8);
      const courseId = store.newId('course');
      const sections = Array.from({ length: sectionCount }, (_, s) => ({
        id: store.newId('section'),
        section: s,
        name: s === 0 ? 'General' : `Week ${s}`,
        summary: '',
        visible: 1,
        modules: [] as SimModule[],
      }));
      const modules: SimModule[] = [];
      const modCount = sectionCount + Math.floor(rnd() * sectionCount * 4);
      for (let m = 0; m < modCount; m++) {
        const modname = m === 0 ? 'forum' : pick(MODTYPES);
        const mod: SimModule = {
          id: store.newId('module'),
          modname,
          name: m === 0 ? 'Announcements' : `${modname} ${m}`,
          instance: m + 1,
          contextid: store.newId('context'),
          visible: 1,
          files: [],
        };
        modules.push(mod);
        sections[m === 0 ? 0 : 1 + Math.floor(rnd() * (sectionCount - 1))].modules.push(mod);
      }
      // Spread the declared bytes over the modules that carry files.
      const fileMods = modules.filter((m) => WITH_FILES.has(m.modname));
      if (fileMods.length === 0) {
        modules[0].modname = 'resource';
        fileMods.push(modules[0]);
      }
      const weights = fileMods.map(() => 0.2 + rnd());
      const total = weights.reduce((a, b) => a + b, 0);
      fileMods.forEach((mod, k) => {
        const filesize = Math.max(1, Math.round((declared * weights[k]) / total));
        const bytes = Math.max(1, Math.round(filesize * v.contentScale));
        const seed = `${store.data.settings.siteId}:${courseId}:${mod.id}`;
        mod.files.push({
          id: store.newId('file'),
          filename: `${mod.modname}-${mod.id}.pdf`,
          filepath: '/',
          filesize,
          bytes,
          mimetype: 'application/pdf',
          contenthash: sha1(generateContent(seed, bytes)),
          seed,
          timecreated: NOW(),
          timemodified: NOW(),
        });
      });
      store.data.courses.push({
        id: courseId,
        category: cats[i % cats.length].id,
        fullname: `${subject} ${i + 1} (${v.vintage})`,
        shortname: `${code}-${v.vintage}`,
        idnumber: `${code}-${y1}${y2}`,
        summary: `<p>${subject}, ${v.vintage}.</p>`,
        format: 'topics',
        startdate: Date.UTC(y1, 8, 1) / 1000,
        enddate: Date.UTC(y2, 5, 30) / 1000,
        visible: 1,
        contextid: store.newId('context'),
        timecreated: NOW(),
        timemodified: NOW(),
        sections,
        // Students of its own: restores of these courses do not collide (a test makes courses share them).
        students: [1, 2, 3].map((k) => `student-${courseId}-${k}`),
      });
    }
  }
  store.data.users = store.data.courses.flatMap((c) => c.students ?? []);
  store.save();
}

export interface DemoSeedOptions {
  dataDir: string;
  courses: number;
  contentScale?: number;
  latency?: SiteSettings['latency'];
}

/** The demo's two sites: `prod` with vintages 2023-2024 and 2024-2025, `archive` with an Archives category. */
export function seedDemoSites(opts: DemoSeedOptions): { tokens: Record<string, string> } {
  const tokens = { prod: newToken(), archive: newToken() };
  const prodDir = join(opts.dataDir, 'prod');
  const archiveDir = join(opts.dataDir, 'archive');
  if (existsSync(join(prodDir, 'state.json'))) throw new Error(`${opts.dataDir} is already seeded`);
  const latency = opts.latency ?? { fixedSeconds: 0, secondsPerMB: 0, secondsPerActivity: 0 };
  const prod = new SiteStore(prodDir, emptySite({ ...defaultSettings('prod', tokens.prod), latency }));
  const subcategories = ['Semester 1', 'Semester 2', 'Master programmes'];
  const common = { minBytes: 2e6, maxBytes: 400e6, contentScale: opts.contentScale ?? 0.005, subcategories };
  seedProduction(prod, [
    { vintage: '2024-2025', courses: opts.courses, ...common },
    { vintage: '2025-2026', courses: 5, ...common },
  ]);
  const archive = new SiteStore(archiveDir, emptySite({ ...defaultSettings('archive', tokens.archive), latency }));
  archive.addCategory('Archives', 0, 'ARCHIVES', '<p>Archived courses, one subcategory per vintage.</p>');
  archive.save();
  return { tokens };
}

/**
 * One course whose backup is about `bytes` long (a lecture-recording course):
 * a resource holding that many incompressible bytes, in a category of its own.
 * Transfer tests and benchmarks need a real large .mbz.
 */
export function seedLargeCourse(
  store: SiteStore,
  opts: { bytes: number; shortname: string; categoryName: string; categoryIdnumber: string; parentCategoryId?: number },
) {
  const category = store.addCategory(opts.categoryName, opts.parentCategoryId ?? 0, opts.categoryIdnumber);
  const id = store.newId('course');
  const seed = `${store.data.settings.siteId}:${id}:large`;
  const module: SimModule = {
    id: store.newId('module'),
    modname: 'resource',
    name: 'Lecture recordings',
    instance: 1,
    contextid: store.newId('context'),
    visible: 1,
    files: [
      {
        id: store.newId('file'),
        filename: 'lectures.mp4',
        filepath: '/',
        filesize: opts.bytes,
        bytes: opts.bytes,
        mimetype: 'video/mp4',
        contenthash: contentSha1(seed, opts.bytes),
        seed,
        timecreated: NOW(),
        timemodified: NOW(),
      },
    ],
  };
  store.data.courses.push({
    id,
    category: category.id,
    fullname: `Recorded lectures (${opts.shortname})`,
    shortname: opts.shortname,
    idnumber: opts.shortname,
    summary: '',
    format: 'topics',
    startdate: 0,
    enddate: 0,
    visible: 1,
    contextid: store.newId('context'),
    timecreated: NOW(),
    timemodified: NOW(),
    sections: [{ id: store.newId('section'), section: 0, name: 'General', summary: '', visible: 1, modules: [module] }],
  });
  store.save();
  return { courseId: id, categoryId: category.id };
}
