// Moodle's file endpoints as a real 4.5 answers them (shared/fixtures/moodle):
// webservice/pluginfile.php serves module content and a course's backup file
// area to a token (the backup area with Range and an ETag that is the
// content's SHA-1, so a host can pull a backup resumably); a user's draft
// files are not served; pluginfile.php without a browser session redirects to
// the login page; webservice/upload.php puts files in the user's draft area.
import { createHash, randomInt } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileContent, type SiteStore } from './state';

/** The JSON error body of Moodle's file endpoints (not the REST server's). */
const fileError = (error: string, errorcode: string) =>
  JSON.stringify({ error, errorcode, stacktrace: null, debuginfo: null, reproductionlink: null });

const NO_CACHE = { 'Cache-Control': 'no-store, no-cache, must-revalidate', Pragma: 'no-cache', 'Access-Control-Allow-Origin': '*' };

interface Served { name: string; body: Buffer; type: string; disposition: 'inline' | 'attachment'; ranges: boolean; etag: boolean; modified: number }

/** What a pluginfile path names: /{contextid}/{component}/{filearea}/{itemid?}/{path...}/{filename}. */
function resolve(store: SiteStore, parts: string[]): Served | undefined {
  const [ctx, component, filearea, ...rest] = parts;
  const contextid = Number(ctx);
  const filename = rest[rest.length - 1];
  if (!filename || filename.includes('..') || filename.includes('/')) return undefined; // never a path out of the file area
  if (component === 'backup' && filearea === 'course') {
    const course = store.data.courses.find((c) => c.contextid === contextid);
    const file = course && join(store.layout.backupArea(course.id), filename);
    if (!file || !existsSync(file)) return undefined;
    return { name: filename, body: readFileSync(file), type: 'application/vnd.moodle.backup', disposition: 'inline', ranges: true, etag: true, modified: statSync(file).mtimeMs };
  }
  const module = store.data.courses.flatMap((c) => c.sections.flatMap((s) => s.modules)).find((m) => m.contextid === contextid);
  if (!module || component !== `mod_${module.modname}` || filearea !== 'content') return undefined;
  const file = module.files.find((f) => f.filename === filename);
  if (!file) return undefined;
  const page = module.modname === 'page';
  return {
    name: filename, body: fileContent(store.layout.filedir, file), type: page ? 'text/html;charset=UTF-8' : `${file.mimetype}; charset=utf-8`,
    disposition: page ? 'attachment' : 'inline', ranges: false, etag: !page, modified: file.timemodified * 1000,
  };
}

export function handlePluginfile(store: SiteStore, url: URL, req: IncomingMessage, res: ServerResponse): void {
  const common = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'range', 'Access-Control-Expose-Headers': 'Content-Range' };
  const token = url.searchParams.get('token');
  const fail = (status: number, error: string, code: string) => {
    res.writeHead(status, { ...common, ...NO_CACHE, 'Content-Type': 'application/json; charset=utf-8' });
    res.end(fileError(error, code));
  };
  if (!token) return fail(200, 'A required parameter (token) was missing', 'missingparam');
  if (!store.data.settings.tokens[token]) return fail(200, 'Invalid token - token not found', 'invalidtoken');
  const parts = url.pathname.slice('/webservice/pluginfile.php/'.length).split('/').filter(Boolean).map(decodeURIComponent);
  const served = resolve(store, parts);
  if (!served) return fail(404, 'Sorry, the requested file could not be found', 'filenotfound');
  const headers: Record<string, string | number> = {
    ...common, 'Content-Disposition': `${served.disposition}; filename="${served.name}"`,
    'Cache-Control': 'private, must-revalidate, pre-check=0, post-check=0, max-age=0, no-transform', Pragma: 'no-cache',
    'Content-Type': served.type, 'Accept-Ranges': served.ranges ? 'bytes' : 'none', 'Last-Modified': new Date(served.modified).toUTCString(),
  };
  if (served.etag) headers.Etag = `"${createHash('sha1').update(served.body).digest('hex')}"`;
  const range = served.ranges ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '') : null;
  if (range) {
    const total = served.body.length;
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : total - 1, total - 1);
    if (start >= total || end < start) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${total}` });
      res.end();
      return;
    }
    res.writeHead(206, { ...headers, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${total}` });
    res.end(served.body.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': served.body.length });
  res.end(served.body);
}

/** pluginfile.php needs a browser session: without one, Moodle sends the login page. */
export function handleSessionPluginfile(wwwroot: string, res: ServerResponse): void {
  res.writeHead(303, { ...NO_CACHE, 'Content-Type': 'text/html; charset=utf-8', Location: `${wwwroot}/login/index.php`, 'Set-Cookie': 'MoodleSession=simulated; path=/; HttpOnly; SameSite=Lax' });
  res.end(`<!DOCTYPE html>\n<html><head><title>Redirect</title></head><body><a href="${wwwroot}/login/index.php">Continue</a></body></html>\n`);
}

/** webservice/upload.php: multipart files into the token user's draft area (numbers as Moodle prints them: userid a string). */
export async function handleUpload(store: SiteStore, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
  const headers = { ...NO_CACHE, 'Accept-Ranges': 'none' };
  const form = await new Request('http://upload', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body }).formData()
    .catch(() => new FormData());
  const token = String(form.get('token') ?? '');
  if (!store.data.settings.tokens[token]) {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(fileError('Invalid token - token not found', 'invalidtoken'));
    return;
  }
  const files = [...form.values()].flatMap((v) => (typeof v === 'string' ? [] : [v as { name: string; size: number }]));
  if (!files.length) {
    res.writeHead(200, { ...headers, 'Content-Type': 'application/json; charset=utf-8' });
    res.end('[]');
    return;
  }
  const asked = Number(form.get('itemid') ?? 0);
  const itemid = asked > 0 ? asked : randomInt(1, 999_999_999);
  const filepath = String(form.get('filepath') ?? '/');
  const out = files.map((f) => ({
    component: 'user', contextid: 5, userid: '2', filearea: 'draft', filename: f.name, filepath, itemid, license: 'unknown',
    author: 'Admin User', source: `O:8:"stdClass":1:{s:6:"source";s:${Buffer.byteLength(f.name)}:"${f.name}";}`, filesize: f.size,
  }));
  res.writeHead(200, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(JSON.stringify(out, null, 4));
}
