// Worker-side configuration: site URLs, admin-CLI command lines, staging
// folders and the Temporal connection, from a JSON file plus the environment.
// Tokens come only from the environment or a secrets file, never from a
// workflow input. Every error names the field and the fix.
import { closest, distance } from 'fastest-levenshtein';
import { maskable } from '../activities/logger';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { z } from 'zod';
import { resolveTemporal } from './temporal-connection';
import {
  SITE_ID,
  wwwrootKey,
  siteOfQueue,
  tokenEnvName,
  type ArchiverConfig,
  type NotificationSettings,
  type RetentionSettings,
  type SiteSettings,
  type StorageSettings,
  type TransportSettings,
} from '../contract';

/** Ids name queues (site/<id>) and environment variables: refused by key, so the message names the id. */
const idsAre = (what: string) => (record: Record<string, unknown>, ctx: z.RefinementCtx) => {
  for (const id of Object.keys(record)) {
    if (!SITE_ID.test(id))
      ctx.addIssue({
        code: 'custom',
        path: [id],
        message: `"${id}" is not a ${what} id: use lowercase letters, digits, "-" or "_", starting with a letter (at most 32)`,
      });
  }
};

/** The longest a Temporal timer (and so an activity timeout) can hold: 2^31 - 1 ms, about 24.8 days. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
const timeoutSeconds = (fallback: number) =>
  z
    .number()
    .positive()
    .max(MAX_TIMER_SECONDS, `must be at most ${MAX_TIMER_SECONDS} s (about 24.8 days, the longest a timer holds); use a shorter timeout`)
    .default(fallback);

/** A URL with a user or password in it would send them with every request, and print them with every URL. */
const noCredentials = (u: string) => {
  try {
    const url = new URL(u);
    return !url.username && !url.password;
  } catch {
    return true; // not a URL: its own check says so
  }
};
const CREDENTIALS_IN_URL = (fix: string) => `must not hold a user or password ("user:password@"): remove them; ${fix}`;

const SiteConfig = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: 'must be the site\'s wwwroot as an http(s) URL, e.g. "https://moodle.example.edu"' })
    .refine(noCredentials, CREDENTIALS_IN_URL('the web-service token is the only credential a site needs')),
  tokenEnv: z.string().optional(),
  tokenFile: z.string().optional(),
  staging: z.string({ error: 'must be the folder where this site\'s .mbz files are staged, e.g. "/var/archiver/staging/prod"' }).min(1),
  cli: z.strictObject(
    {
      command: z.array(z.string().min(1)).min(1).default(['php']),
      moodleDir: z.string({ error: 'must be the Moodle code directory that holds admin/cli, e.g. "/var/www/moodle"' }).min(1),
      timeoutSeconds: timeoutSeconds(6 * 3600),
    },
    {
      error:
        'must describe how to run Moodle\'s admin CLI on this host: { "moodleDir": "/var/www/moodle", "command": ["sudo", "-u", "www-data", "php"] }',
    },
  ),
  /** At most this many backups/restores at once on this host, whatever the sessions. */
  maxConcurrentJobs: z.number().int().min(1).max(64).default(2),
  /** Restores at once into this site: concurrent restores of courses sharing users collide on a real Moodle. */
  restoresAtOnce: z.number().int().min(1).max(64).default(1),
  requestTimeoutSeconds: timeoutSeconds(120),
});

/** Cold storage: archives kept as sealed packages in a folder (the interface is ready for object stores). */
const StorageConfig = z
  .object({
    kind: z.literal('folder', { error: 'only "folder" storages exist yet' }).default('folder'),
    path: z.string({ error: 'must be the folder that holds the sealed packages, e.g. "/srv/moodle-archive"' }).min(1),
    staging: z
      .string({ error: 'must be the folder where backups land before they are packaged, e.g. "/srv/moodle-archive/.incoming"' })
      .min(1),
    maxConcurrentJobs: z.number().int().min(1).max(64).default(2),
  })
  .strict();

/** How a backup travels from a source site to a target (site or storage). */
const TransportRoute = z
  .object({
    from: z.string({ error: 'name the source site' }),
    to: z.string({ error: 'name the target site or storage' }),
    driver: z.enum(['shared-path', 'moodle-ws'], {
      error:
        '"shared-path" (both hosts mount the staging folders) or "moodle-ws" (the target host pulls the backup from the source Moodle over HTTP)',
    }),
    /** shared-path: copy the .mbz, or move it (the source staging copy is gone once it arrived). */
    mode: z.enum(['copy', 'move']).default('copy'),
    /** shared-path: where the target host sees the source's staging folder (default: the same path). */
    sourceMount: z.string().min(1).optional(),
    /** At most this many MB per second, so a transfer never saturates production's network. */
    maxMBps: z.number().positive('must be a positive number of MB per second').optional(),
  })
  .strict();

/** How long archives are kept, by source category (the first rule that matches wins; none: kept for good). */
const RetentionRule = z
  .object({
    site: z.string().optional(),
    /** Matches a course whose category, or one of its parents, has this id... */
    categoryId: z.number().int().positive().optional(),
    /** ...or an idnumber matching this pattern (`*`, `?`). No category criterion: every course of the site. */
    categoryIdnumber: z.string().min(1).optional(),
    keepYears: z
      .number({ error: 'say how many years archives are kept, e.g. 5' })
      .positive('must be a positive number of years')
      .max(100, 'must be at most 100 years; leave a category without a rule to keep its archives for good'),
  })
  .strict();

const ConfigFile = z.strictObject({
  // Each field left out comes from the TEMPORAL_* variables, then from a temporal.toml profile (workers/temporal-connection.ts).
  temporal: z
    .strictObject({
      profile: z.string().min(1).optional(),
      address: z.string().min(1).optional(),
      namespace: z.string().min(1, 'must name the Temporal namespace, e.g. "default"').optional(),
      tls: z
        .union([
          z.boolean(),
          z.strictObject({
            serverName: z.string().min(1).optional(),
            serverCaCertFile: z.string().min(1).optional(),
            clientCertFile: z.string().min(1).optional(),
            clientKeyFile: z.string().min(1).optional(),
          }),
        ])
        .optional(),
      /** Where operators open the Web UI: reports link each course there. */
      webUiUrl: z
        .url({ protocol: /^https?$/, error: 'must be the Temporal Web UI\'s address, e.g. "http://localhost:8233"' })
        .default('http://localhost:8233'),
    })
    .default({ webUiUrl: 'http://localhost:8233' }),
  mainQueue: z
    .string()
    .min(1)
    .refine((q) => !q.startsWith('site/'), 'must not start with "site/": those are the Moodle hosts\' queues; e.g. "archive-main"')
    .default('archive-main'),
  catalog: z.strictObject({ url: z.string().min(1).default('file:.data/catalog.sqlite') }).default({ url: 'file:.data/catalog.sqlite' }),
  sites: z
    .record(z.string(), SiteConfig)
    .superRefine(idsAre('site'))
    .refine((s) => Object.keys(s).length > 0, 'list at least one Moodle site'),
  storages: z.record(z.string(), StorageConfig).superRefine(idsAre('storage')).default({}),
  transports: z.array(TransportRoute).default([]),
  retention: z.array(RetentionRule).default([]),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  // Each worker's Prometheus endpoint (GET /metrics): the SDK's metrics and the archiver's. None: no endpoint.
  metrics: z
    .strictObject({
      bindAddress: z
        .string()
        .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port for the Prometheus endpoint, e.g. "0.0.0.0:9464"')
        .optional(),
    })
    .default({}),
  notifications: z
    .object({
      webhook: z
        .object({
          url: z
            .url({ protocol: /^https?$/, error: 'must be the http(s) URL that receives a JSON POST per notification' })
            .refine(noCredentials, CREDENTIALS_IN_URL('put a bearer token in the variable "tokenEnv" names')),
          /** Environment variable holding a bearer token for the receiver, if it wants one. */
          tokenEnv: z.string().optional(),
        })
        .strict()
        .optional(),
      email: z
        .object({
          host: z.string({ error: 'name the SMTP server, e.g. "smtp.example.edu"' }).min(1),
          port: z.number().int().min(1).max(65535).default(587),
          secure: z.boolean().default(false),
          from: z.string({ error: 'give the sender address, e.g. "archiver@example.edu"' }).min(3),
          to: z
            .array(z.string().min(3), { error: 'list the recipients, e.g. ["moodle-admins@example.edu"]' })
            .min(1, 'list at least one recipient'),
          /** Environment variables holding the SMTP login, if the server wants one. */
          userEnv: z.string().optional(),
          passwordEnv: z.string().optional(),
        })
        .strict()
        .optional(),
    })
    .strict()
    .default({}),
});

// The parser's output is the contract's types: a field added to one and not the other is a compile error.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape = <T extends true>() => undefined as unknown as T;
sameShape<Same<z.infer<typeof SiteConfig>, Omit<SiteSettings, 'siteId' | 'token'>>>();
sameShape<Same<z.infer<typeof StorageConfig>, Omit<StorageSettings, 'storageId'>>>();
sameShape<Same<z.infer<typeof TransportRoute>, TransportSettings>>();
sameShape<Same<z.infer<typeof RetentionRule>, RetentionSettings>>();
sameShape<Same<z.infer<typeof ConfigFile>['notifications'], NotificationSettings>>();
sameShape<Same<z.infer<typeof ConfigFile>['logLevel'], ArchiverConfig['logLevel']>>();

/** The keys the schema knows at this path of the file (through records, arrays, defaults and refinements). */
function knownKeysAt(schema: z.ZodType, path: PropertyKey[]): string[] {
  let at: z.ZodType | undefined = schema;
  for (const step of [...path, undefined]) {
    // Unwrap what does not change the shape: a default, an optional, a refined pipe.
    for (;;) {
      const def: { innerType?: z.ZodType; in?: z.ZodType; type?: string } | undefined = (
        at as { def?: { innerType?: z.ZodType; in?: z.ZodType; type?: string } } | undefined
      )?.def;
      if (def?.innerType) at = def.innerType;
      else if (def?.type === 'pipe' && def.in) at = def.in;
      else break;
    }
    if (step === undefined) break;
    if (at instanceof z.ZodObject) at = (at.shape as Record<string, z.ZodType>)[String(step)];
    else if (at instanceof z.ZodRecord) at = at.valueType as z.ZodType;
    else if (at instanceof z.ZodArray) at = at.element as z.ZodType;
    else return [];
  }
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
}

/** Every setting the config file may hold that `raw` sets nowhere, as dotted paths ("sites.*.tokenFile": no
 * site sets it). The example config is kept whole with it: a new setting shows there, or is named as an
 * alternative to one that does. */
export function settingsNotIn(raw: unknown): string[] {
  const known = new Set<string>();
  const present = new Set<string>();
  const walk = (value: unknown, path: PropertyKey[], shown: string) => {
    if (Array.isArray(value)) return value.forEach((v) => walk(v, [...path, 0], `${shown}.*`));
    if (!value || typeof value !== 'object') return;
    const keys = knownKeysAt(ConfigFile, path);
    const entries = Object.entries(value as Record<string, unknown>);
    if (!keys.length) return entries.forEach(([k, v]) => walk(v, [...path, k], `${shown}.*`));
    for (const k of keys) known.add(`${shown}.${k}`.replace(/^\./, ''));
    for (const [k, v] of entries) {
      present.add(`${shown}.${k}`.replace(/^\./, ''));
      walk(v, [...path, k], `${shown}.${k}`);
    }
  };
  walk(raw, [], '');
  return [...known].filter((k) => !present.has(k)).sort();
}

/** A key the schema does not know: a typo is refused, with the closest key it knows. */
function unknownKey(key: string, known: string[]): string {
  const near = known.length ? closest(key, known) : undefined;
  const guess = near && distance(key.toLowerCase(), near.toLowerCase()) <= Math.max(2, Math.floor(near.length / 3)) ? near : undefined;
  return `unknown setting "${key}"${guess ? `; did you mean "${guess}"?` : ''}${known.length ? ` (known here: ${known.join(', ')})` : ''}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Parses and checks a configuration object. `requireTokens` is false for the
 * operator's CLI, which never needs a Moodle token.
 */
export function parseConfig(
  raw: unknown,
  opts: { env?: NodeJS.ProcessEnv; baseDir?: string; source?: string; requireTokens?: boolean } = {},
): ArchiverConfig {
  const env = opts.env ?? process.env;
  const source = opts.source ?? 'config';
  const parsed = ConfigFile.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      source,
      parsed.error.issues.flatMap((i) =>
        i.code === 'unrecognized_keys'
          ? i.keys.map((key) => `${[...i.path, key].join('.')}: ${unknownKey(key, knownKeysAt(ConfigFile, i.path))}`)
          : [`${i.path.join('.') || '(root)'}: ${i.message}`],
      ),
    );
  }
  const cfg = parsed.data;
  const problems: string[] = [];
  const sites: Record<string, SiteSettings> = {};
  for (const [siteId, site] of Object.entries(cfg.sites)) {
    const envName = site.tokenEnv ?? tokenEnvName(siteId);
    let token = env[envName];
    if (!token && site.tokenFile) {
      const file = resolve(opts.baseDir ?? '.', site.tokenFile);
      if (existsSync(file)) token = readFileSync(file, 'utf8').trim();
      else problems.push(`sites.${siteId}.tokenFile: ${file} does not exist; create it with the site's web-service token`);
    }
    if (!token && opts.requireTokens !== false) {
      problems.push(`sites.${siteId}.token: missing; set ${envName} in the worker's environment, or "tokenFile" in sites.${siteId}`);
    } else if (token && !/^[A-Za-z0-9]+$/.test(token)) {
      problems.push(`sites.${siteId}.token: a Moodle token is letters and digits only; check ${envName}`);
    }
    sites[siteId] = {
      ...site,
      siteId,
      token: token ?? '',
      staging: resolve(opts.baseDir ?? '.', site.staging),
      cli: { ...site.cli, moodleDir: resolve(opts.baseDir ?? '.', site.cli.moodleDir) },
    };
  }
  // Two ids for one Moodle would let a session archive a site into itself under another name, or two
  // sessions take the same courses: one Moodle, one id. (The sites' own answers are compared at session start.)
  const byWwwroot = new Map<string, string>();
  for (const [siteId, site] of Object.entries(cfg.sites)) {
    const key = wwwrootKey(site.url);
    const other = byWwwroot.get(key);
    if (other)
      problems.push(`sites.${siteId}.url: the same Moodle as sites.${other} (${site.url}); one Moodle is one site: remove one of them`);
    else byWwwroot.set(key, siteId);
  }
  const storages: Record<string, StorageSettings> = {};
  for (const [storageId, st] of Object.entries(cfg.storages)) {
    if (cfg.sites[storageId]) problems.push(`storages.${storageId}: a site has the same id; give the storage another name`);
    storages[storageId] = {
      ...st,
      storageId,
      path: resolve(opts.baseDir ?? '.', st.path),
      staging: resolve(opts.baseDir ?? '.', st.staging),
    };
  }
  cfg.transports.forEach((t, i) => {
    if (!cfg.sites[t.from]) problems.push(`transports.${i}.from: unknown site "${t.from}"; name a site of "sites"`);
    if (!cfg.sites[t.to] && !cfg.storages[t.to])
      problems.push(`transports.${i}.to: unknown target "${t.to}"; name a site of "sites" or a storage of "storages"`);
    if (cfg.transports.findIndex((u) => u.from === t.from && u.to === t.to) !== i)
      problems.push(`transports.${i}: a second route ${t.from} -> ${t.to}; keep one per pair`);
    if (t.driver === 'moodle-ws' && (t.sourceMount || t.mode !== 'copy'))
      problems.push(`transports.${i}: "sourceMount" and "mode" are for the shared-path driver; moodle-ws pulls over HTTP`);
  });
  const catalogUrl = env.DATABASE_URL ?? cfg.catalog.url;
  if (!/^(file:.+|postgres(ql)?:\/\/.+)$/.test(catalogUrl)) {
    problems.push(
      `catalog.url${env.DATABASE_URL ? ' (from DATABASE_URL)' : ''}: "${catalogUrl.split(':')[0]}:" is not a catalog; use "file:<path>" (SQLite) or "postgresql://user:password@host/db"`,
    );
  }
  // Two hosts staging in one folder would clean up each other's backups; a storage inside a staging folder (or at
  // the root) would have its packages cleaned as staging leftovers.
  const stagings = [
    ...Object.entries(cfg.sites).map(([id, x]) => [`sites.${id}.staging`, resolve(opts.baseDir ?? '.', x.staging)] as const),
    ...Object.entries(cfg.storages).map(([id, x]) => [`storages.${id}.staging`, resolve(opts.baseDir ?? '.', x.staging)] as const),
  ];
  const within = (dir: string, parent: string) => dir === parent || dir.startsWith(parent.endsWith(sep) ? parent : parent + sep);
  stagings.forEach(([field, dir], i) => {
    const other = stagings.slice(0, i).find(([, d]) => within(dir, d) || within(d, dir));
    if (other) problems.push(`${field}: ${dir} is also (or holds) ${other[0]}; give each site and storage a staging folder of its own`);
    if (dir === sep) problems.push(`${field}: "/" cannot be a staging folder; name a folder of its own`);
  });
  for (const [id, st] of Object.entries(cfg.storages)) {
    const path = resolve(opts.baseDir ?? '.', st.path);
    if (path === sep) problems.push(`storages.${id}.path: "/" cannot hold the archives; name a folder of its own`);
    // Its own staging may sit inside it (path/.incoming); the archives may not sit inside a staging folder.
    const inside = stagings.find(([, d]) => within(path, d));
    if (inside) problems.push(`storages.${id}.path: ${path} is inside ${inside[0]}; keep the archives out of every staging folder`);
  }
  if (opts.requireTokens !== false) {
    const { webhook, email } = cfg.notifications;
    const unset = (field: string, name?: string) => {
      if (name && !env[name]) problems.push(`${field}: ${name} is not set; set it in the worker's environment, or remove ${field}`);
    };
    unset('notifications.webhook.tokenEnv', webhook?.tokenEnv);
    unset('notifications.email.userEnv', email?.userEnv);
    unset('notifications.email.passwordEnv', email?.passwordEnv);
  }
  cfg.retention.forEach((r, i) => {
    if (r.site && !cfg.sites[r.site]) problems.push(`retention.${i}.site: unknown site "${r.site}"`);
    if (r.categoryId && r.categoryIdnumber) problems.push(`retention.${i}: give categoryId or categoryIdnumber, not both`);
  });
  const temporal = resolveTemporal(cfg.temporal, env, opts.baseDir ?? process.cwd(), problems);
  if (problems.length) throw new ConfigError(source, problems);
  return {
    temporal,
    mainQueue: cfg.mainQueue,
    catalog: { url: catalogUrl },
    sites,
    storages,
    transports: cfg.transports,
    retention: cfg.retention,
    logLevel: cfg.logLevel,
    metrics: cfg.metrics,
    notifications: cfg.notifications,
  };
}

/**
 * The folders a worker writes on the hosts it serves (`site/<id>` queues): each must exist, or be
 * creatable, and be readable and writable by this worker. Checked at start, before any work.
 */
export function folderProblems(config: ArchiverConfig, queues: string[]): string[] {
  const problems: string[] = [];
  const check = (field: string, dir: string) => {
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.R_OK | constants.W_OK);
    } catch (e) {
      problems.push(
        `${field}: ${dir} cannot be used by this worker (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); create it, readable and writable by the worker and the Moodle CLI user, or point ${field} at a folder that is`,
      );
    }
  };
  for (const q of queues) {
    const id = siteOfQueue(q);
    if (id && config.sites[id]) check(`sites.${id}.staging`, config.sites[id].staging);
    if (id && config.storages[id]) {
      check(`storages.${id}.staging`, config.storages[id].staging);
      check(`storages.${id}.path`, config.storages[id].path);
    }
  }
  return problems;
}

/** Every secret value a worker holds: the sites' tokens, the Temporal API key, the catalog's database password,
 * the notifications' token and SMTP login. Masked in its logs and in whatever leaves an activity. */
export function configSecrets(config: ArchiverConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const { webhook, email } = config.notifications;
  const fromEnv = (name?: string) => (name ? env[name] : undefined);
  let dbPassword: string | undefined;
  try {
    dbPassword = decodeURIComponent(new URL(config.catalog.url).password) || undefined;
  } catch {
    dbPassword = undefined; // a file: URL has none
  }
  return maskable([
    ...Object.values(config.sites).map((s) => s.token),
    config.temporal.apiKey,
    dbPassword,
    fromEnv(webhook?.tokenEnv),
    fromEnv(email?.passwordEnv),
  ]);
}

/** Reads the config file named by --config or ARCHIVER_CONFIG. */
export function loadConfig(
  path = process.env.ARCHIVER_CONFIG ?? 'archiver.config.json',
  opts: { env?: NodeJS.ProcessEnv; requireTokens?: boolean } = {},
): ArchiverConfig {
  const file = resolve(path);
  if (!existsSync(file))
    throw new ConfigError(file, [`file not found; pass --config <file> or set ARCHIVER_CONFIG (see archiver.config.example.json)`]);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(file, [`not valid JSON: ${(e as Error).message}`]);
  }
  return parseConfig(raw, { ...opts, baseDir: dirname(file), source: file });
}
