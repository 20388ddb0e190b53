// A simulated site rebuilt from the recordings of a real Moodle 4.5
// (shared/fixtures/moodle): the same categories, courses, sections, modules
// and files, with the same ids, so every recorded request can be replayed
// against the simulator and the two answers compared.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultSettings } from '../simulator/seed';
import { emptySite, type SimCategory, type SimCourse, type SimModule, type SiteData } from '../simulator/state';

/** The recordings: $MOODLE_FIXTURES, else shared/fixtures/moodle beside the repository (as CI lays it out). */
export const FIXTURES = process.env.MOODLE_FIXTURES ?? resolve(import.meta.dirname, '../../shared/fixtures/moodle');
if (!existsSync(join(FIXTURES, '_http_meta.rest.json'))) {
  throw new Error(`The real-Moodle recordings are not at ${FIXTURES}: put shared/ beside the repository, or set MOODLE_FIXTURES`);
}
export const fixture = <T = unknown>(name: string): T => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;

interface RecordedContentFile {
  type: string;
  filename: string;
  filepath: string | null;
  filesize: number;
  fileurl: string;
  timecreated: number | null;
  timemodified: number;
  mimetype?: string;
}
interface RecordedModule {
  id: number;
  name: string;
  instance: number;
  contextid: number;
  visible: number;
  modname: string;
  contents?: RecordedContentFile[];
}
interface RecordedSection {
  id: number;
  name: string;
  visible: number;
  summary: string;
  section: number;
  modules: RecordedModule[];
}

const CONTENTS: Record<number, string> = { 2: 'core_course_get_contents.json', 3: 'core_course_get_contents.ARCH201.json' };

export function fixtureSiteData(token: string): SiteData {
  // The recorded token's service: the functions its site info listed, no others.
  const functions = fixture<{ functions: { name: string }[] }>('core_webservice_get_site_info.json').functions.map((f) => f.name);
  const data = emptySite({
    ...defaultSettings('fixture', token),
    release: '4.5.11+ (Build: 20260501)',
    version: '2024100711.02',
    tokens: { [token]: { functions } },
  });
  data.categories = fixture<SimCategory[]>('core_course_get_categories.json').map((c) => ({
    id: c.id,
    name: c.name,
    idnumber: c.idnumber,
    description: c.description,
    descriptionformat: c.descriptionformat,
    parent: c.parent,
    sortorder: c.sortorder,
    visible: c.visible,
    timemodified: c.timemodified,
    depth: c.depth,
    path: c.path,
  }));
  const courses = fixture<{ courses: (Record<string, unknown> & { id: number })[] }>('core_course_get_courses_by_field.all.json').courses;
  let fileId = 1;
  data.courses = courses.map((c): SimCourse => {
    const sections = CONTENTS[c.id] ? fixture<RecordedSection[]>(CONTENTS[c.id]) : [];
    return {
      id: c.id,
      category: c.categoryid as number,
      fullname: c.fullname as string,
      shortname: c.shortname as string,
      idnumber: c.idnumber as string,
      summary: c.summary as string,
      format: c.format as string,
      startdate: c.startdate as number,
      enddate: c.enddate as number,
      visible: c.visible as number,
      contextid: 100 + c.id,
      timecreated: c.timecreated as number,
      timemodified: c.timemodified as number,
      contacts: c.contacts as SimCourse['contacts'],
      sections: sections.map((s) => ({
        id: s.id,
        section: s.section,
        name: s.name,
        summary: s.summary,
        visible: s.visible,
        modules: s.modules.map((m): SimModule => ({
          id: m.id,
          modname: m.modname,
          name: m.name,
          instance: m.instance,
          contextid: m.contextid,
          visible: m.visible,
          files: (m.contents ?? []).map((f) => ({
            id: fileId++,
            filename: f.filename,
            filepath: f.filepath ?? '/',
            filesize: f.filesize,
            bytes: f.filesize,
            mimetype: f.mimetype ?? 'text/html',
            contenthash: `${m.contextid}-${f.filename}`,
            seed: `${m.id}-${f.filename}`,
            timecreated: f.timecreated ?? 0,
            timemodified: f.timemodified,
            ...(f.type === 'url' ? { url: f.fileurl } : {}),
          })),
        })),
      })),
    };
  });
  data.nextId = { category: 5, course: 6, section: 100, module: 100, file: fileId, context: 200 };
  return data;
}
