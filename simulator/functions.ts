// The web-service functions the archiver uses, with Moodle's parameter
// descriptions and response shapes (see shared/fixtures/moodle).
import { MoodleException, invalidParameter, missingRecord } from './errors';
import { multiple, optional, single, value, withDefault, type ParamDesc } from './params';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NOW, type SimCategory, type SimCourse, type SimModule, type SiteStore } from './state';
import { bumpCacherev } from './teacher-edits';

export interface WsFunction {
  params: Record<string, ParamDesc>;
  /** `functions`: what the caller's token may call (null: everything). */
  run(store: SiteStore, params: Record<string, unknown>, wwwroot: string, functions: string[] | null): unknown;
}

const MODPLURAL: Record<string, string> = {
  forum: 'Forums',
  page: 'Pages',
  resource: 'Files',
  assign: 'Assignments',
  label: 'Text and media areas',
  url: 'URLs',
  quiz: 'Quizzes',
  folder: 'Folders',
  book: 'Books',
};
const PURPOSE: Record<string, string> = {
  forum: 'collaboration',
  assign: 'assessment',
  quiz: 'assessment',
  label: 'content',
};

/**
 * Moodle's format_string, as the web services apply it to names: tags stripped, then `&` (unless it starts an
 * entity), `<` and `>` escaped; quotes are left alone. A real 4.5 answers `Maths & Physics` as `Maths &amp; Physics`.
 */
export function formatString<T extends string | undefined>(raw: T): T {
  // A test may leave a field out (a plugin's answer): it stays out.
  if (typeof raw !== 'string') return raw;
  return raw
    .replace(/<[^>]*>?/g, '')
    .replace(/&(?!#?\w+;)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;') as T;
}

function formatCategory(c: SimCategory, store: SiteStore) {
  return {
    id: c.id,
    name: formatString(c.name),
    idnumber: c.idnumber,
    description: c.description,
    descriptionformat: c.descriptionformat,
    parent: c.parent,
    sortorder: c.sortorder,
    coursecount: store.data.courses.filter((x) => x.category === c.id).length,
    visible: c.visible,
    visibleold: c.visible,
    timemodified: c.timemodified,
    depth: c.depth,
    path: c.path,
    theme: '',
  };
}

/** A site's default text filters, as every course lists them. */
const FILTERS = ['displayh5p', 'activitynames', 'mathjaxloader', 'emoticon', 'urltolink', 'mediaplugin'].map((filter) => ({
  filter,
  localstate: 0,
  inheritedstate: 1,
}));

/** What core_course_search_courses and the start of core_course_get_courses_by_field show of a course. */
function courseSummary(c: SimCourse, store: SiteStore, wwwroot: string) {
  const cat = store.category(c.category);
  const site = c.format === 'site';
  return {
    id: c.id,
    fullname: formatString(c.fullname),
    displayname: formatString(c.fullname),
    shortname: formatString(c.shortname),
    courseimage: `${wwwroot}/pluginfile.php/${c.contextid}/course/generated/course.svg`,
    categoryid: c.category,
    categoryname: formatString(cat?.name ?? ''),
    sortorder: (cat?.sortorder ?? 0) + 1,
    summary: c.summary,
    summaryformat: site ? 0 : 1,
    summaryfiles: [],
    overviewfiles: [],
    // The front page has no completion settings: Moodle says null there.
    showactivitydates: false,
    showcompletionconditions: site ? null : true,
    contacts: c.contacts ?? [],
    enrollmentmethods: site ? [] : ['manual'],
  };
}

function formatCourse(c: SimCourse, store: SiteStore, wwwroot: string) {
  return {
    ...courseSummary(c, store, wwwroot),
    idnumber: c.idnumber,
    format: c.format,
    showgrades: 1,
    newsitems: c.format === 'site' ? 3 : 1,
    startdate: c.startdate,
    enddate: c.enddate,
    maxbytes: 0,
    showreports: 0,
    visible: c.visible,
    groupmode: 0,
    groupmodeforce: 0,
    defaultgroupingid: 0,
    enablecompletion: 0,
    completionnotify: 0,
    lang: '',
    theme: '',
    marker: 0,
    legacyfiles: 0,
    calendartype: '',
    timecreated: c.timecreated,
    timemodified: c.timemodified,
    requested: 0,
    cacherev: c.cacherev ?? c.timemodified,
    filters: FILTERS,
    ...(c.format === 'site'
      ? {}
      : {
          courseformatoptions: [
            { name: 'hiddensections', value: 1 },
            { name: 'coursedisplay', value: 0 },
          ],
        }),
  };
}

/** The older core_course_get_courses record: flat, with the category's sort order and the section count. */
function formatCourseRecord(c: SimCourse, store: SiteStore) {
  const site = c.format === 'site';
  return {
    id: c.id,
    shortname: formatString(c.shortname),
    categoryid: c.category,
    categorysortorder: (store.category(c.category)?.sortorder ?? 0) + 1,
    fullname: formatString(c.fullname),
    displayname: formatString(c.fullname),
    idnumber: c.idnumber,
    summary: c.summary,
    summaryformat: site ? 0 : 1,
    format: c.format,
    showgrades: 1,
    newsitems: site ? 3 : 1,
    startdate: c.startdate,
    enddate: c.enddate,
    numsections: Math.max(0, c.sections.length - 1),
    maxbytes: 0,
    showreports: 0,
    visible: c.visible,
    ...(site ? {} : { hiddensections: 1 }),
    groupmode: 0,
    groupmodeforce: 0,
    defaultgroupingid: 0,
    timecreated: c.timecreated,
    timemodified: c.timemodified,
    enablecompletion: 0,
    completionnotify: 0,
    lang: '',
    forcetheme: '',
    courseformatoptions: site
      ? [{ name: 'numsections', value: 1 }]
      : [
          { name: 'hiddensections', value: 1 },
          { name: 'coursedisplay', value: 0 },
        ],
    showactivitydates: false,
    showcompletionconditions: site ? null : true,
  };
}

/**
 * How core_course_get_contents shows each module type (recorded on 4.5):
 * labels have a description and no view URL; forums and files carry an
 * activity badge; a page's content is its index.html with no creation time
 * or MIME type, a URL's is the link (no path, no sort order), a file
 * resource's or a folder's are stored files. Assignments export no contents.
 */
const MODULE_VIEW: Record<string, { url: boolean; badge: boolean; contents: 'stored' | 'page' | 'link' | 'none' }> = {
  label: { url: false, badge: false, contents: 'none' },
  forum: { url: true, badge: true, contents: 'none' },
  resource: { url: true, badge: true, contents: 'stored' },
  folder: { url: true, badge: false, contents: 'stored' },
  page: { url: true, badge: false, contents: 'page' },
  url: { url: true, badge: false, contents: 'link' },
  assign: { url: true, badge: false, contents: 'none' },
};
const DEFAULT_VIEW = { url: true, badge: false, contents: 'none' } as const;

function formatModule(m: SimModule, wwwroot: string) {
  const view = MODULE_VIEW[m.modname] ?? DEFAULT_VIEW;
  const files = view.contents === 'none' ? [] : m.files.filter((f) => f.filename !== '.');
  const mod: Record<string, unknown> = {
    id: m.id,
    ...(view.url ? { url: `${wwwroot}/mod/${m.modname}/view.php?id=${m.id}` } : {}),
    name: m.name,
    instance: m.instance,
    contextid: m.contextid,
    ...(view.url ? {} : { description: `<p>${m.name}</p>` }),
    visible: m.visible,
    uservisible: true,
    visibleoncoursepage: 1,
    modicon: `${wwwroot}/theme/image.php/boost/${m.modname}/1/monologo?filtericon=1`,
    modname: m.modname,
    purpose: PURPOSE[m.modname] ?? 'content',
    branded: false,
    modplural: MODPLURAL[m.modname] ?? `${m.modname}s`,
    availability: null,
    indent: 0,
    onclick: '',
    afterlink: null,
    ...(view.badge ? { activitybadge: [] } : {}),
    customdata: '""',
    noviewlink: false,
    completion: 0,
    downloadcontent: 1,
    dates: [],
    groupmode: 0,
  };
  if (files.length) {
    mod.contents = files.map((f, i) => {
      const fileurl = `${wwwroot}/webservice/pluginfile.php/${m.contextid}/mod_${m.modname}/content/0${f.filepath}${f.filename}?forcedownload=1`;
      const who = { userid: null, author: null, license: null };
      if (view.contents === 'page') {
        return {
          type: 'file',
          filename: f.filename,
          filepath: f.filepath,
          filesize: f.filesize,
          fileurl,
          timecreated: null,
          timemodified: f.timemodified,
          sortorder: i + 1,
          ...who,
        };
      }
      if (view.contents === 'link') {
        return {
          type: 'url',
          filename: f.filename,
          filepath: null,
          filesize: 0,
          fileurl: f.url ?? '',
          timecreated: null,
          timemodified: f.timemodified,
          sortorder: null,
          ...who,
        };
      }
      return {
        type: 'file',
        filename: f.filename,
        filepath: f.filepath,
        filesize: f.filesize,
        fileurl,
        timecreated: f.timecreated,
        timemodified: f.timemodified,
        sortorder: i + 1,
        mimetype: f.mimetype,
        isexternalfile: false,
        ...who,
      };
    });
    mod.contentsinfo = {
      filescount: files.length,
      filessize: files.reduce((n, f) => n + f.filesize, 0),
      lastmodified: Math.max(...files.map((f) => f.timemodified)),
      mimetypes: view.contents === 'link' ? [] : [...new Set(files.map((f) => f.mimetype))],
      repositorytype: '',
    };
  }
  return mod;
}

function requireCourse(store: SiteStore, id: number): SimCourse {
  const course = store.course(id);
  if (!course) throw missingRecord('course', 'SELECT * FROM {course} WHERE id = ?', id);
  return course;
}

/** Site-wide switches that site info lists (a few of a default 4.5 site's). */
const ADVANCED_FEATURES = ['usecomments', 'usetags', 'enablenotes', 'messaging', 'enableblogs', 'enablecompletion', 'enablebadges'].map(
  (name) => ({ name, value: 1 }),
);

export const FUNCTIONS: Record<string, WsFunction> = {
  core_webservice_get_site_info: {
    params: { serviceshortnames: multiple(value('alphanum'), { required: false, default: [] }) },
    run(store, _params, wwwroot, allowed) {
      const s = store.data.settings;
      return {
        sitename: s.sitename,
        username: 'admin',
        firstname: 'Admin',
        lastname: 'User',
        fullname: 'Admin User',
        lang: 'en',
        userid: 2,
        siteurl: wwwroot,
        userpictureurl: `${wwwroot}/theme/image.php/boost/core/1/u/f1`,
        // Only the functions of the token's service, as a real site lists them.
        functions: (allowed ?? Object.keys(FUNCTIONS)).map((name) => ({ name, version: s.version })),
        downloadfiles: 1,
        uploadfiles: 1,
        release: s.release,
        version: s.version,
        mobilecssurl: '',
        advancedfeatures: ADVANCED_FEATURES,
        usercanmanageownfiles: true,
        userquota: 104857600,
        usermaxuploadfilesize: 104857600,
        // Optional and unset: JSON leaves them out, XML writes them as null, as Moodle does.
        userhomepage: 1,
        userhomepageurl: undefined,
        userprivateaccesskey: 'simulated',
        usersessionscount: undefined,
        siteid: 1,
        sitecalendartype: 'gregorian',
        usercalendartype: 'gregorian',
        userissiteadmin: true,
        theme: 'boost',
        limitconcurrentlogins: 0,
        policyagreed: 0,
      };
    },
  },

  core_course_get_categories: {
    params: {
      criteria: multiple(single({ key: value('alpha'), value: value('raw') }), { required: false, default: [] }),
      addsubcategories: withDefault('bool', true),
    },
    run(store, params) {
      const criteria = params.criteria as { key: string; value: string }[];
      let matched = store.data.categories;
      for (const { key, value: v } of criteria) {
        if (key === 'id') matched = matched.filter((c) => String(c.id) === v);
        else if (key === 'ids') matched = matched.filter((c) => v.split(',').includes(String(c.id)));
        else if (key === 'name') matched = matched.filter((c) => c.name === v);
        else if (key === 'parent') matched = matched.filter((c) => String(c.parent) === v);
        else if (key === 'idnumber') matched = matched.filter((c) => c.idnumber === v);
        else if (key === 'visible') matched = matched.filter((c) => String(c.visible) === v);
        else throw new MoodleException('moodle_exception', 'criteriaerror', 'Missing permissions to search on a criterion.');
      }
      const result = new Map<number, SimCategory>();
      for (const c of matched) {
        result.set(c.id, c);
        if (params.addsubcategories && criteria.length) {
          for (const d of store.subtree(c.id)) result.set(d.id, d);
        }
      }
      return [...result.values()]
        .sort((a, b) => String(a.sortorder).localeCompare(String(b.sortorder)))
        .map((c) => formatCategory(c, store));
    },
  },

  core_course_get_courses_by_field: {
    params: { field: withDefault('alpha', ''), value: withDefault('raw', '') },
    run(store, params, wwwroot) {
      const field = params.field as string;
      const v = params.value as string;
      let courses: SimCourse[];
      switch (field) {
        case '':
          courses = store.data.courses;
          break;
        case 'id':
          courses = store.data.courses.filter((c) => String(c.id) === v);
          break;
        case 'ids':
          courses = store.data.courses.filter((c) => v.split(',').includes(String(c.id)));
          break;
        case 'shortname':
          courses = store.data.courses.filter((c) => c.shortname === v);
          break;
        case 'idnumber':
          courses = store.data.courses.filter((c) => c.idnumber === v);
          break;
        case 'category':
          courses = store.data.courses.filter((c) => String(c.category) === v);
          break;
        default:
          throw invalidParameter('Invalid field name');
      }
      return { courses: [...courses].sort((a, b) => a.id - b.id).map((c) => formatCourse(c, store, wwwroot)), warnings: [] };
    },
  },

  core_course_get_courses: {
    params: {
      options: single({ ids: multiple(value('int'), { required: false, default: [] }) }, { required: false, default: { ids: [] } }),
    },
    run(store, params) {
      const ids = (params.options as { ids: number[] }).ids;
      const courses = ids.length ? ids.map((id) => requireCourse(store, id)) : store.data.courses;
      return courses.map((c) => formatCourseRecord(c, store));
    },
  },

  core_course_search_courses: {
    params: {
      criterianame: value('alpha'),
      criteriavalue: value('raw'),
      page: withDefault('int', 0),
      perpage: withDefault('int', 0),
      requiredcapabilities: multiple(value('text'), { required: false, default: [] }),
      limittoenrolled: withDefault('bool', false),
      onlywithcompletion: withDefault('bool', false),
    },
    run(store, params, wwwroot) {
      if (params.criterianame !== 'search') throw invalidParameter('Invalid parameter value detected');
      const words = String(params.criteriavalue).toLowerCase().split(/\s+/).filter(Boolean);
      const found = store.data.courses.filter(
        (c) =>
          c.format !== 'site' &&
          words.every((w) => [c.fullname, c.shortname, c.idnumber, c.summary].some((t) => t.toLowerCase().includes(w))),
      );
      return { total: found.length, courses: found.map((c) => courseSummary(c, store, wwwroot)), warnings: [] };
    },
  },

  core_course_get_contents: {
    params: {
      courseid: value('int'),
      options: multiple(single({ name: value('alphanum'), value: value('raw') }), { required: false, default: [] }),
    },
    run(store, params, wwwroot) {
      const course = requireCourse(store, params.courseid as number);
      return course.sections.map((s) => ({
        id: s.id,
        name: s.name,
        visible: s.visible,
        summary: s.summary,
        summaryformat: 1,
        section: s.section,
        hiddenbynumsections: 0,
        uservisible: true,
        component: null,
        itemid: null,
        modules: s.modules.map((m) => formatModule(m, wwwroot)),
      }));
    },
  },

  core_course_update_courses: {
    params: {
      courses: multiple(
        single({
          id: value('int'),
          fullname: optional('text'),
          shortname: optional('text'),
          categoryid: optional('int'),
          idnumber: optional('raw'),
          summary: optional('raw'),
          visible: optional('int'),
          startdate: optional('int'),
          enddate: optional('int'),
          format: optional('alpha'),
        }),
      ),
    },
    run(store, params) {
      const warnings: unknown[] = [];
      for (const upd of params.courses as Record<string, unknown>[]) {
        const course = store.course(upd.id as number);
        if (!course) {
          warnings.push({
            item: 'course',
            itemid: upd.id,
            warningcode: 'invalidrecord',
            message: "Can't find data record in database table course.",
          });
          continue;
        }
        if (upd.shortname !== undefined && store.data.courses.some((c) => c.id !== course.id && c.shortname === upd.shortname)) {
          const other = store.data.courses.find((c) => c.shortname === upd.shortname)!;
          warnings.push({
            item: 'course',
            itemid: course.id,
            warningcode: 'shortnametaken',
            message: `Short name is already used for another course (${other.shortname})`,
          });
          continue;
        }
        if (upd.idnumber && store.data.courses.some((c) => c.id !== course.id && c.idnumber === upd.idnumber)) {
          warnings.push({
            item: 'course',
            itemid: course.id,
            warningcode: 'courseidnumbertaken',
            message: `ID number is already used for another course (${upd.idnumber})`,
          });
          continue;
        }
        if (upd.categoryid !== undefined && !store.category(upd.categoryid as number)) {
          warnings.push({
            item: 'course',
            itemid: course.id,
            warningcode: 'invalidrecord',
            message: "Can't find data record in database table course_categories.",
          });
          continue;
        }
        if (upd.fullname !== undefined) course.fullname = upd.fullname as string;
        if (upd.shortname !== undefined) course.shortname = upd.shortname as string;
        if (upd.categoryid !== undefined) course.category = upd.categoryid as number;
        if (upd.idnumber !== undefined) course.idnumber = upd.idnumber as string;
        if (upd.summary !== undefined) course.summary = upd.summary as string;
        if (upd.visible !== undefined) course.visible = upd.visible ? 1 : 0;
        if (upd.startdate !== undefined) course.startdate = upd.startdate as number;
        if (upd.enddate !== undefined) course.enddate = upd.enddate as number;
        if (upd.format !== undefined) course.format = upd.format as string;
        course.timemodified = NOW();
        bumpCacherev(course);
      }
      store.saveSoon();
      return { warnings };
    },
  },

  core_course_delete_courses: {
    params: { courseids: multiple(value('int')) },
    run(store, params) {
      const warnings: unknown[] = [];
      for (const id of params.courseids as number[]) {
        const idx = store.data.courses.findIndex((c) => c.id === id);
        if (idx < 0) {
          warnings.push({ item: 'course', itemid: id, warningcode: 'unknowncourseidnumber', message: `Unknown course ID ${id}` });
          continue;
        }
        store.data.courses.splice(idx, 1);
      }
      store.saveSoon();
      return { warnings };
    },
  },

  // Only what the archiver reads: a course's backup file area (where backup.php
  // without --destination leaves its file), named by context id or by
  // contextlevel "course" + instanceid, as on Moodle 4.5.
  core_files_get_files: {
    params: {
      contextid: value('int'),
      component: value('text'),
      filearea: value('text'),
      itemid: value('int'),
      filepath: value('raw'),
      filename: value('raw'),
      modified: withDefault('int', null),
      contextlevel: withDefault('alpha', null),
      instanceid: withDefault('int', null),
    },
    run(store, params, wwwroot) {
      const course =
        params.contextid === -1
          ? params.contextlevel === 'course'
            ? store.course(params.instanceid as number)
            : undefined
          : store.data.courses.find((c) => c.contextid === params.contextid);
      if (!course) throw new MoodleException('moodle_exception', 'invalidcontext', 'Invalid context');
      const cat = store.category(course.category);
      const parents = [
        { contextid: 1, component: null, filearea: null, itemid: null, filepath: null, filename: 'System' },
        ...(cat
          ? cat.path
              .split('/')
              .filter(Boolean)
              .map(Number)
              .map((id) => store.category(id)!)
              .map((c) => ({ contextid: 0, component: null, filearea: null, itemid: null, filepath: null, filename: c.name }))
          : []),
        { contextid: course.contextid, component: null, filearea: null, itemid: null, filepath: null, filename: course.fullname },
      ];
      const area = store.layout.backupArea(course.id);
      const inArea = params.component === 'backup' && params.filearea === 'course' && params.itemid === 0 && params.filepath === '/';
      const names =
        inArea && existsSync(area)
          ? readdirSync(area).filter((f) => f.endsWith('.mbz') && (!params.filename || f === params.filename))
          : [];
      const files = names.sort().map((filename) => {
        const st = statSync(join(area, filename));
        return {
          contextid: course.contextid,
          component: 'backup',
          filearea: 'course',
          itemid: 0,
          filepath: '/',
          filename,
          isdir: false,
          // As Moodle: the browser-session URL, which a web-service client must rewrite to webservice/pluginfile.php.
          url: `${wwwroot}/pluginfile.php/${course.contextid}/backup/course/${encodeURIComponent(filename)}`,
          timemodified: Math.floor(st.mtimeMs / 1000),
          timecreated: Math.floor(st.birthtimeMs / 1000) || Math.floor(st.mtimeMs / 1000),
          filesize: st.size,
          author: null,
          license: null,
        };
      });
      return { parents, files };
    },
  },

  core_course_create_categories: {
    params: {
      categories: multiple(
        single({
          name: value('text'),
          parent: withDefault('int', 0),
          idnumber: optional('raw'),
          description: optional('raw'),
          descriptionformat: withDefault('int', 1),
          theme: optional('alphanum'),
        }),
      ),
    },
    run(store, params) {
      const wanted = params.categories as { name: string; parent: number; idnumber?: string; description?: string }[];
      // One transaction for the whole call: check everything before creating anything.
      const seen = new Set<string>();
      for (const c of wanted) {
        if (c.parent && !store.category(c.parent)) throw new MoodleException('moodle_exception', 'unknowcategory', 'Category not known!');
        if (!c.name.trim()) throw new MoodleException('moodle_exception', 'categorynamerequired', 'Category name is required');
        if (c.idnumber) {
          if (seen.has(c.idnumber) || store.data.categories.some((x) => x.idnumber === c.idnumber)) {
            throw new MoodleException('moodle_exception', 'categoryidnumbertaken', 'ID number is already used for another category');
          }
          seen.add(c.idnumber);
        }
      }
      const created = wanted.map((c) => store.addCategory(c.name, c.parent, c.idnumber ?? '', c.description ?? ''));
      store.saveSoon();
      return created.map((c) => ({ id: c.id, name: c.name }));
    },
  },
};
