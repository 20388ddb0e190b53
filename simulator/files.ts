// Moodle's file endpoints as a real 4.5 answers them (shared/fixtures/moodle):
// webservice/pluginfile.php serves module content and a course's backup file
// area to a token (the backup area with Range and an ETag that is the
// content's SHA-1, so a host can pull a backup resumably); a user's draft
// files are not served; pluginfile.php without a browser session redirects to
// the login page; webservice/upload.php puts files in the user's draft area.
// Backup files are streamed from disk (they can be gigabytes), at most at the
// site's simulated bandwidth, and every byte sent is counted.
import { createHash, randomInt } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { throttle } from '../activities/transport/throttle';
import { pipeline } from 'node:stream/promises';
import { fileContent, type SiteStore } from './state';

/** What a site's file endpoint sent: the tests' evidence of resumed transfers. */
export interface DownloadStats {
  bytesSent: number;
  /** Each backup download: its Range header ('' for the whole file) and the bytes it sent. */
  backups: { file: string; range: string; bytes: number }[];
}

/** The JSON error body of Moodle's file endpoints (not the REST server's). */
const fileError = (error: string, errorcode: string) =>
  JSON.stringify({ error, errorcode, stacktrace: null, debuginfo: null, reproductionlink: null });

const NO_CACHE = { 'Cache-Control': 'no-store, no-cache, must-revalidate', Pragma: 'no-cache', 'Access-Control-Allow-Origin': '*' };

interface Served {
  name: string;
  type: string;
  disposition: 'inline' | 'attachment';
  ranges: boolean;
  etag: boolean;
  modified: number;
  /** Either the bytes, or a file on disk streamed from. */
  body?: Buffer;
  path?: string;
  size: number;
}

/** SHA-1 of a backup file, read once per version of the file (Moodle keeps it as the file's contenthash). */
const sha1Cache = new Map<string, string>();
async function fileSha1(path: string): Promise<string> {
  const st = statSync(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  let h = sha1Cache.get(key);
  if (!h) {
    const hash = createHash('sha1');
    for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(c as Buffer);
    h = hash.digest('hex');
    sha1Cache.set(key, h);
  }
  return h;
}

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
    const st = statSync(file);
    return {
      name: filename,
      path: file,
      size: st.size,
      type: 'application/vnd.moodle.backup',
      disposition: 'inline',
      ranges: true,
      etag: true,
      modified: st.mtimeMs,
    };
  }
  const module = store.data.courses.flatMap((c) => c.sections.flatMap((s) => s.modules)).find((m) => m.contextid === contextid);
  if (!module || component !== `mod_${module.modname}` || filearea !== 'content') return undefined;
  const file = module.files.find((f) => f.filename === filename);
  if (!file) return undefined;
  const page = module.modname === 'page';
  const body = fileContent(store.layout.filedir, file);
  return {
    name: filename,
    body,
    size: body.length,
    type: page ? 'text/html;charset=UTF-8' : `${file.mimetype}; charset=utf-8`,
    disposition: page ? 'attachment' : 'inline',
    ranges: false,
    etag: !page,
    modified: file.timemodified * 1000,
  };
}

export async function handlePluginfile(
  store: SiteStore,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
  stats: DownloadStats,
): Promise<void> {
  const common = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': 'range',
    'Access-Control-Expose-Headers': 'Content-Range',
  };
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
    ...common,
    'Content-Disposition': `${served.disposition}; filename="${served.name}"`,
    'Cache-Control': 'private, must-revalidate, pre-check=0, post-check=0, max-age=0, no-transform',
    Pragma: 'no-cache',
    'Content-Type': served.type,
    'Accept-Ranges': served.ranges ? 'bytes' : 'none',
    'Last-Modified': new Date(served.modified).toUTCString(),
  };
  if (served.etag) headers.Etag = `"${served.path ? await fileSha1(served.path) : createHash('sha1').update(served.body!).digest('hex')}"`;
  const total = served.size;
  let start = 0;
  let end = total - 1;
  // As a real 4.5 behind php -S answers: a Range past the end gets 200 and the whole file, and If-Range is ignored.
  const range = served.ranges ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '') : null;
  if (range && Number(range[1]) < total && !(range[2] && Number(range[2]) < Number(range[1]))) {
    start = Number(range[1]);
    end = Math.min(range[2] ? Number(range[2]) : total - 1, total - 1);
    res.writeHead(206, { ...headers, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${total}` });
  } else {
    res.writeHead(200, { ...headers, 'Content-Length': total });
  }
  const record = served.path ? { file: served.name, range: req.headers.range ?? '', bytes: 0 } : undefined;
  if (record) stats.backups.push(record);
  const settings = store.data.settings;
  let corrupt = Boolean(record && settings.corruptDownloads && settings.corruptDownloads-- > 0);
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (corrupt) {
        chunk = Buffer.from(chunk);
        chunk[chunk.length >> 1] ^= 0xff;
        corrupt = false;
      }
      stats.bytesSent += chunk.length;
      if (record) record.bytes += chunk.length;
      cb(null, chunk);
    },
  });
  const source = served.path
    ? createReadStream(served.path, { start, end, highWaterMark: 256 << 10 })
    : Readable.from([served.body!.subarray(start, end + 1)]);
  const limit = store.data.settings.downloadBytesPerSecond ?? 0;
  // A client that hangs up mid-file (a killed worker) ends the pipeline with an error: nothing to answer.
  const sent = limit > 0 ? pipeline(source, throttle(limit), count, res) : pipeline(source, count, res);
  await sent.catch(() => res.destroy());
}

/** pluginfile.php needs a browser session: without one, Moodle sends the login page. */
export function handleSessionPluginfile(wwwroot: string, res: ServerResponse): void {
  res.writeHead(303, {
    ...NO_CACHE,
    'Content-Type': 'text/html; charset=utf-8',
    Location: `${wwwroot}/login/index.php`,
    'Set-Cookie': 'MoodleSession=simulated; path=/; HttpOnly; SameSite=Lax',
  });
  res.end(
    `<!DOCTYPE html>\n<html><head><title>Redirect</title></head><body><a href="${wwwroot}/login/index.php">Continue</a></body></html>\n`,
  );
}

/** webservice/upload.php: multipart files into the token user's draft area (numbers as Moodle prints them: userid a string). */
export async function handleUpload(store: SiteStore, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
  const headers = { ...NO_CACHE, 'Accept-Ranges': 'none' };
  const form = await new Request('http://upload', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body })
    .formData()
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
    component: 'user',
    contextid: 5,
    userid: '2',
    filearea: 'draft',
    filename: f.name,
    filepath,
    itemid,
    license: 'unknown',
    author: 'Admin User',
    source: `O:8:"stdClass":1:{s:6:"source";s:${Buffer.byteLength(f.name)}:"${f.name}";}`,
    filesize: f.size,
  }));
  res.writeHead(200, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(JSON.stringify(out, null, 4));
}
