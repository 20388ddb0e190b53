// What a teacher does to a course while it is archived, moving what a real
// Moodle 4.5 moves (test/fixtures/moodle-4.5.11/source-edits.json, made by
// scripts/teacher-edits.php): the course's timemodified on a settings edit,
// its cacherev on any change of modules or sections, a module's file list on
// an upload or a page's text. Forum posts are not modelled: the web services
// show nothing of them either.
import { generateContent, sha1 } from './content';
import { NOW, type SimCourse, type SimFile, type SiteStore } from './state';

export const TEACHER_EDITS = ['settings', 'addpage', 'section', 'uploadfile', 'pagetext', 'hide', 'forumpost'] as const;
export type TeacherEdit = (typeof TEACHER_EDITS)[number];

/** Moodle's increment_revision_number(): now, or one more when the revision is already this second's (or ahead). */
export function bumpCacherev(course: SimCourse, now = NOW()): void {
  const rev = course.cacherev ?? course.timemodified;
  course.cacherev = rev < now || rev > now + 3600 ? now : rev + 1;
}

/** `now`: Moodle's clock, in seconds (a test steps it: two edits in one second move no time). */
export function teacherEdit(store: SiteStore, courseId: number, edit: TeacherEdit, now = NOW()): void {
  const course = store.course(courseId);
  if (!course) throw new Error(`no course ${courseId} on ${store.data.settings.siteId}`);
  const first = (modname: string) => {
    const m = course.sections.flatMap((s) => s.modules).find((x) => x.modname === modname);
    if (!m) throw new Error(`course ${courseId} has no ${modname}`);
    return m;
  };
  const newFile = (filename: string, mimetype: string): SimFile => {
    const seed = `${store.data.settings.siteId}:${courseId}:edit:${now}:${filename}`;
    const bytes = 20;
    const sha = sha1(generateContent(seed, bytes));
    return {
      id: store.newId('file'),
      filename,
      filepath: '/',
      filesize: bytes,
      bytes,
      mimetype,
      contenthash: sha,
      seed,
      timecreated: now,
      timemodified: now,
    };
  };
  const section = course.sections[1] ?? course.sections[0];
  switch (edit) {
    case 'settings':
      course.fullname = `${course.fullname} (edited)`;
      course.timemodified = now;
      bumpCacherev(course, now);
      break;
    case 'addpage': {
      const id = store.newId('module');
      section.modules.push({
        id,
        modname: 'page',
        name: 'Added page',
        instance: id,
        contextid: store.newId('context'),
        visible: 1,
        files: [newFile('index.html', 'text/html')],
      });
      bumpCacherev(course, now);
      break;
    }
    case 'section':
      section.summary = `Edited at ${now}`;
      bumpCacherev(course, now);
      break;
    case 'uploadfile':
      first('resource').files.push(newFile(`uploaded-${now}.txt`, 'text/plain'));
      break;
    case 'pagetext':
      for (const f of first('page').files) f.timemodified = now;
      break;
    case 'hide': {
      // Moodle stamps the activity's own timemodified too (cmactions::set_visibility): a page's content file carries it.
      const page = first('page');
      page.visible = 0;
      for (const f of page.files) f.timemodified = now;
      bumpCacherev(course, now);
      break;
    }
    case 'forumpost':
      break;
  }
  store.saveSoon();
}
