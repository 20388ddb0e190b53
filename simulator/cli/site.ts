// What a stand-in admin-CLI script knows of its site: the site folder (its
// moodledata) and the site's database, reached through the simulator.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { FileBytes } from '../content';
import { fileBytes, siteLayout, type SiteSettings, type SimCourse, type SimCategory, type SimFile } from '../state';

export class CliSite {
  readonly layout: ReturnType<typeof siteLayout>;
  readonly wwwroot: string;
  private readonly secret: string;

  constructor(readonly siteDir: string) {
    this.layout = siteLayout(siteDir);
    const config = JSON.parse(readFileSync(this.layout.configFile, 'utf8')) as { wwwroot: string; secret: string };
    this.wwwroot = config.wwwroot;
    this.secret = config.secret;
  }

  /** Plain node:http: a script starts for each course, and fetch would load undici at every start. */
  rpc<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    return new Promise((resolveBody, reject) => {
      const req = request(
        `${this.wwwroot}/__sim/${op}`,
        { method: 'POST', headers: { 'x-sim-secret': this.secret, 'content-type': 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T & { error?: string };
            if (res.statusCode !== 200) reject(new Error(body.error ?? `database error ${res.statusCode}`));
            else resolveBody(body);
          });
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(args));
    });
  }

  settings = () => this.rpc<SiteSettings>('settings');
  course = (id: number) => this.rpc<{ course: SimCourse | null; category?: SimCategory }>('course', { id });

  fileBytes(f: SimFile): FileBytes {
    return fileBytes(this.layout.filedir, f);
  }
}

/** Moodle's cli_get_params: --name=value, --flag, -x=value; anything else is an unknown option. */
export function cliParams(
  argv: string[],
  known: Record<string, string | undefined>,
): { options: Record<string, string | true>; unknown: string[] } {
  const options: Record<string, string | true> = {};
  const unknown: string[] = [];
  for (const arg of argv) {
    const m = /^(--?)([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m) {
      unknown.push(arg);
      continue;
    }
    const name = m[1] === '--' ? m[2] : known[m[2]];
    if (!name || !(name in known) || (m[1] === '-' && !known[m[2]])) {
      unknown.push(arg);
      continue;
    }
    options[name] = m[3] ?? true;
  }
  return { options, unknown };
}

/** Simulated work time: a fixed cost plus size and activity count, as measured on a real Moodle. */
export function simulatedSeconds(settings: SiteSettings, declaredBytes: number, activities: number): number {
  const l = settings.latency;
  return l.fixedSeconds + (declaredBytes / 1e6) * l.secondsPerMB + activities * l.secondsPerActivity;
}

export const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
