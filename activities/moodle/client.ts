// The Moodle web-service client: REST over form-encoded POST, JSON format,
// responses checked against the shapes a real Moodle 4.5 returns. The same
// code talks to the simulator and to a real site.
import { scrubText } from '../logger';
import got, { RequestError } from 'got';
import { z } from 'zod';
import { classifyMoodleError, MoodleError } from './errors';
import { decodeName } from './text';

export interface MoodleSite {
  siteId: string;
  url: string;
  token: string;
  timeoutSeconds?: number;
}

type Param = string | number | boolean | Param[] | { [k: string]: Param };

/** PHP bracket notation: courseids[0]=5, courses[0][id]=5. Moodle rejects JSON bodies and comma lists. */
export function encodeParams(params: Record<string, Param>): URLSearchParams {
  const out = new URLSearchParams();
  const add = (key: string, v: Param) => {
    if (Array.isArray(v)) v.forEach((x, i) => add(`${key}[${i}]`, x));
    else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) add(`${key}[${k}]`, x);
    else out.append(key, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  };
  for (const [k, v] of Object.entries(params)) add(k, v);
  return out;
}

const ErrorBody = z.object({
  exception: z.string(),
  errorcode: z.string().optional(),
  message: z.string(),
  debuginfo: z.string().optional(),
});

const Warning = z.looseObject({ item: z.string().optional(), itemid: z.number().optional(), warningcode: z.string(), message: z.string() });
export const SiteInfo = z.looseObject({
  sitename: z.string(),
  siteurl: z.string(),
  userid: z.number(),
  release: z.string().optional(),
  version: z.string().optional(),
  functions: z.array(z.looseObject({ name: z.string(), version: z.string() })),
});
/** A name as format_string gave it: decoded (moodle/text.ts). */
const Name = z.string().transform(decodeName);
export const Category = z.looseObject({
  id: z.number(),
  name: Name,
  idnumber: z.string().nullable().optional(),
  parent: z.number(),
  path: z.string(),
  depth: z.number(),
});
export const Course = z.looseObject({
  id: z.number(),
  fullname: Name,
  shortname: Name,
  categoryid: z.number(),
  idnumber: z.string().nullable().optional(),
  visible: z.number().optional(),
  format: z.string().optional(),
  timecreated: z.number().optional(),
  // What proves the course unchanged (source-fingerprint.ts).
  timemodified: z.number().optional(),
  cacherev: z.number().optional(),
  summary: z.string().optional(),
  startdate: z.number().optional(),
  enddate: z.number().optional(),
});
const FileContent = z.looseObject({
  type: z.string(),
  filename: z.string().optional(),
  filepath: z.string().nullable().optional(),
  filesize: z.number().nullable().optional(),
  timemodified: z.number().nullable().optional(),
});
export const Section = z.looseObject({
  id: z.number(),
  section: z.number(),
  name: z.string(),
  summary: z.string().optional(),
  visible: z.number().optional(),
  modules: z.array(
    z.looseObject({
      id: z.number(),
      modname: z.string(),
      name: z.string(),
      instance: z.number().optional(),
      visible: z.number().optional(),
      contents: z.array(FileContent).optional(),
    }),
  ),
});
export const StoredFile = z.looseObject({
  contextid: z.number(),
  component: z.string(),
  filearea: z.string(),
  itemid: z.number(),
  filepath: z.string(),
  filename: z.string(),
  isdir: z.boolean(),
  url: z.string(),
  timemodified: z.number(),
  timecreated: z.number().optional(),
  filesize: z.number(),
});
export type MoodleCategory = z.infer<typeof Category>;
export type MoodleStoredFile = z.infer<typeof StoredFile>;

/** A download in progress: the body from `offset`, the file's size and its ETag (Moodle's: the content's SHA-1). */
export interface Download {
  body: NodeJS.ReadableStream & { destroy(): void };
  offset: number;
  total: number;
  etag: string;
}
export type MoodleCourse = z.infer<typeof Course>;
export type MoodleSection = z.infer<typeof Section>;

/** The web-service functions the archiver calls: the token's external service must hold every one. */
export const REQUIRED_FUNCTIONS = [
  'core_webservice_get_site_info',
  'core_course_get_categories',
  'core_course_get_courses_by_field',
  'core_course_get_contents',
  'core_course_update_courses',
  'core_course_create_categories',
] as const;

export class MoodleClient {
  constructor(private readonly site: MoodleSite) {}

  get siteId(): string {
    return this.site.siteId;
  }

  /** Calls one web-service function; a Moodle error or an unexpected shape becomes a MoodleError. */
  async call<S extends z.ZodType>(fn: string, params: Record<string, Param>, schema: S): Promise<z.infer<S>> {
    const body = encodeParams({ wstoken: this.site.token, wsfunction: fn, moodlewsrestformat: 'json', ...params });
    let text: string;
    try {
      const res = await got.post(new URL('webservice/rest/server.php', this.site.url.replace(/\/?$/, '/')), {
        body: body.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        timeout: { request: (this.site.timeoutSeconds ?? 120) * 1000 },
        retry: { limit: 0 }, // Temporal retries the activity; two retry loops would multiply
        throwHttpErrors: false,
        followRedirect: false, // a redirect would send the token wherever it points
      });
      if (res.statusCode >= 300 && res.statusCode < 400) throw this.redirected(fn, res.statusCode, res.headers.location);
      if (res.statusCode === 403) throw new MoodleError('web-services-disabled', this.site.siteId, fn, 'HTTP 403 from the REST server');
      if (res.statusCode >= 500) throw new MoodleError('transient', this.site.siteId, fn, `HTTP ${res.statusCode}`);
      if (res.statusCode !== 200)
        throw new MoodleError(
          'unexpected-response',
          this.site.siteId,
          fn,
          `HTTP ${res.statusCode} (is ${this.site.url} the site's wwwroot?)`,
        );
      text = res.body;
    } catch (e) {
      if (e instanceof MoodleError) throw e;
      // got's error carries the request body, token included: keep only its code.
      const code = e instanceof RequestError ? e.code : 'ERR_UNKNOWN';
      const timeout = this.site.timeoutSeconds ?? 120;
      throw new MoodleError(
        'transient',
        this.site.siteId,
        fn,
        code === 'ETIMEDOUT' ? `no answer within ${timeout} s` : `network error ${code}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // Masked before it is cut: a token cut in half would no longer be found and masked later.
      throw new MoodleError('unexpected-response', this.site.siteId, fn, `not JSON: ${scrubText(text, [this.site.token]).slice(0, 80)}`);
    }
    const err = ErrorBody.safeParse(json);
    if (err.success) {
      const { exception, errorcode, message, debuginfo } = err.data;
      const kind = classifyMoodleError(errorcode);
      throw new MoodleError(
        kind,
        this.site.siteId,
        fn,
        `${errorcode ?? exception}: ${message}${debuginfo ? ` (${debuginfo.split('\n')[0]})` : ''}`,
        errorcode,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new MoodleError('unexpected-response', this.site.siteId, fn, `field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    return parsed.data;
  }

  /** A redirect is refused, never followed: it names where it pointed by host only (its path may hold the token). */
  private redirected(what: string, status: number, location?: string): MoodleError {
    let host = '';
    try {
      host = location ? ` to ${new URL(location, this.site.url).host}` : '';
    } catch {
      host = '';
    }
    return new MoodleError(
      'unexpected-response',
      this.site.siteId,
      what,
      `HTTP ${status} redirect${host}: sites.${this.site.siteId}.url (${this.site.url}) is not the site's wwwroot; set it to the address the site answers on, its $CFG->wwwroot`,
    );
  }

  siteInfo() {
    return this.call('core_webservice_get_site_info', {}, SiteInfo);
  }

  /** The category and, when asked, every descendant. */
  categories(criteria: Record<string, string | number>, addSubcategories = true) {
    return this.call(
      'core_course_get_categories',
      {
        criteria: Object.entries(criteria).map(([key, value]) => ({ key, value: String(value) })),
        addsubcategories: addSubcategories,
      },
      z.array(Category),
    );
  }

  async coursesByField(field: 'id' | 'ids' | 'shortname' | 'idnumber' | 'category', value: string | number) {
    const res = await this.call(
      'core_course_get_courses_by_field',
      { field, value: String(value) },
      z.object({ courses: z.array(Course), warnings: z.array(Warning).optional() }),
    );
    return res.courses;
  }

  contents(courseId: number) {
    return this.call('core_course_get_contents', { courseid: courseId }, z.array(Section));
  }

  /** Moodle reports per-course problems as warnings, not errors: surface them as errors. */
  async updateCourses(courses: ({ id: number } & Record<string, string | number>)[]) {
    const res = await this.call('core_course_update_courses', { courses }, z.object({ warnings: z.array(Warning) }));
    const w = res.warnings[0];
    if (w)
      throw new MoodleError(
        w.warningcode === 'invalidrecord' ? 'missing-record' : 'transient',
        this.site.siteId,
        'core_course_update_courses',
        `${w.warningcode}: ${w.message}`,
        w.warningcode,
      );
  }

  async deleteCourses(courseIds: number[]) {
    const res = await this.call('core_course_delete_courses', { courseids: courseIds }, z.object({ warnings: z.array(Warning) }));
    return res.warnings;
  }

  /** The files of a course's backup area, where backup.php without --destination leaves its .mbz. */
  async backupAreaFiles(courseId: number): Promise<MoodleStoredFile[]> {
    const res = await this.call(
      'core_files_get_files',
      {
        contextid: -1,
        contextlevel: 'course',
        instanceid: courseId,
        component: 'backup',
        filearea: 'course',
        itemid: 0,
        filepath: '/',
        filename: '',
      },
      z.object({ files: z.array(StoredFile) }),
    );
    return res.files.filter((f) => !f.isdir);
  }

  /**
   * Opens a stored file through webservice/pluginfile.php, from `offset` on (HTTP Range).
   * core_files_get_files names it by its browser-session URL (/pluginfile.php/), which
   * answers a token with the login page: the path is moved under /webservice/.
   * `ifEtag`: resume only if the file is still this version. A real Moodle ignores If-Range and answers a
   * Range past the end with 200 and the whole file: a 206 of another version is refused here and the whole
   * file asked for; a 200 is the whole file (offset 0), whatever was asked.
   */
  async download(file: Pick<MoodleStoredFile, 'url'>, offset: number, ifEtag?: string): Promise<Download> {
    const path = new URL(file.url).pathname.replace(/^.*?\/pluginfile\.php\//, 'webservice/pluginfile.php/');
    const url = new URL(path, this.site.url.replace(/\/?$/, '/'));
    url.searchParams.set('token', this.site.token);
    const what = `download of ${decodeURIComponent(path.split('/').pop() ?? '')}`;
    const headers: Record<string, string> =
      offset > 0 ? { range: `bytes=${offset}-`, ...(ifEtag ? { 'if-range': `"${ifEtag}"` } : {}) } : {};
    const stream = got.stream(url, {
      headers,
      timeout: { connect: 30_000, response: (this.site.timeoutSeconds ?? 120) * 1000 },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false, // a redirect would send the token wherever it points
    });
    const res = await new Promise<import('got').Response>((resolve, reject) => {
      stream.once('response', resolve);
      // got's error names the URL, token included: keep only its code.
      stream.once('error', (e: unknown) =>
        reject(new MoodleError('transient', this.site.siteId, what, `network error ${e instanceof RequestError ? e.code : 'ERR_UNKNOWN'}`)),
      );
    });
    if (res.statusCode >= 300 && res.statusCode < 400) {
      stream.destroy();
      throw this.redirected(what, res.statusCode, res.headers.location);
    }
    if (res.statusCode === 416 && offset > 0) {
      // The file is shorter than what we hold: it changed; start over.
      stream.destroy();
      return this.download(file, 0);
    }
    const type = String(res.headers['content-type'] ?? '');
    if (res.statusCode >= 500) {
      stream.destroy();
      throw new MoodleError('transient', this.site.siteId, what, `HTTP ${res.statusCode}`);
    }
    if (type.startsWith('application/json')) {
      // Moodle's file endpoint answers its errors as JSON, with 200 or 404.
      let text = '';
      for await (const c of stream) text += String(c);
      const body = JSON.parse(text || '{}') as { errorcode?: string; error?: string };
      const kind = body.errorcode === 'filenotfound' ? 'missing-record' : classifyMoodleError(body.errorcode);
      throw new MoodleError(kind, this.site.siteId, what, `${body.errorcode ?? res.statusCode}: ${body.error ?? ''}`, body.errorcode);
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      stream.destroy();
      throw new MoodleError('unexpected-response', this.site.siteId, what, `HTTP ${res.statusCode}`);
    }
    const etag = String(res.headers.etag ?? '')
      .replace(/^W\//, '')
      .replace(/"/g, '');
    if (res.statusCode === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== offset) {
        stream.destroy();
        throw new MoodleError(
          'unexpected-response',
          this.site.siteId,
          what,
          `Content-Range "${res.headers['content-range']}" for bytes=${offset}-`,
        );
      }
      if (ifEtag && etag && etag !== ifEtag) {
        // The file changed since the bytes we hold: they belong to another version.
        stream.destroy();
        return this.download(file, 0);
      }
      return { body: stream, offset, total: Number(m[3]), etag };
    }
    return { body: stream, offset: 0, total: Number(res.headers['content-length'] ?? -1), etag };
  }

  createCategories(categories: { name: string; parent: number; idnumber?: string; description?: string }[]) {
    return this.call('core_course_create_categories', { categories }, z.array(z.looseObject({ id: z.number(), name: z.string() })));
  }
}
