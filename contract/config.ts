// The workers' configuration as every layer sees it, once parsed and checked
// (the parser, with its messages, is workers/config.ts). Plain types: the
// workflows never hold it, activities read their part, the CLI reads the
// Temporal connection and the queues.

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface SiteSettings {
  siteId: string;
  /** The site's wwwroot. */
  url: string;
  /** The web-service token, from the environment or a token file: never in a workflow input. */
  token: string;
  tokenEnv?: string;
  tokenFile?: string;
  /** Where this site's .mbz files are staged (absolute). */
  staging: string;
  /** How Moodle's admin CLI runs on this host. */
  cli: { command: string[]; moodleDir: string; timeoutSeconds: number };
  /** At most this many backups/restores at once on this host, whatever the sessions. */
  maxConcurrentJobs: number;
  /**
   * Restores at once into this site, from one worker. Restores of courses that share users collide on a real
   * Moodle (a unique-key error, a placeholder course left), and nearly all courses share students: 1 unless
   * the courses share no users.
   */
  restoresAtOnce: number;
  requestTimeoutSeconds: number;
}

/** Cold storage: archives kept as sealed packages in a folder. */
export interface StorageSettings {
  storageId: string;
  kind: 'folder';
  path: string;
  staging: string;
  maxConcurrentJobs: number;
}

/** How a backup travels from a source site to a target (site or storage). */
export interface TransportSettings {
  from: string;
  to: string;
  driver: 'shared-path' | 'moodle-ws';
  /** shared-path: copy the .mbz, or move it. */
  mode: 'copy' | 'move';
  /** shared-path: where the target host sees the source's staging folder (default: the same path). */
  sourceMount?: string;
  maxMBps?: number;
}

/** How long archives are kept, by source category (first match wins; none: kept for good). */
export interface RetentionSettings {
  site?: string;
  categoryId?: number;
  categoryIdnumber?: string;
  keepYears: number;
}

export interface NotificationSettings {
  webhook?: { url: string; tokenEnv?: string };
  email?: {
    host: string;
    port: number;
    secure: boolean;
    from: string;
    to: string[];
    userEnv?: string;
    passwordEnv?: string;
  };
}

/** TLS to Temporal beyond "on": the server's CA and name, a client certificate (mTLS). */
export interface TemporalTls {
  serverNameOverride?: string;
  serverRootCACertificate?: Uint8Array;
  clientCertPair?: { crt: Uint8Array; key: Uint8Array };
}

/** How to reach Temporal (workers/temporal-connection.ts resolves it: config file, TEMPORAL_* variables, temporal.toml). */
export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Undefined or false: plain; true: TLS with the system's CAs. */
  tls?: boolean | TemporalTls;
  apiKey?: string;
  /** gRPC headers, from the profile's grpc_meta or TEMPORAL_GRPC_META_*. */
  metadata?: Record<string, string>;
  webUiUrl: string;
}

export interface ArchiverConfig {
  temporal: TemporalSettings;
  mainQueue: string;
  catalog: { url: string };
  sites: Record<string, SiteSettings>;
  storages: Record<string, StorageSettings>;
  transports: TransportSettings[];
  retention: RetentionSettings[];
  logLevel: LogLevel;
  /** Each worker's Prometheus endpoint, host:port (workers/main.ts); none: no endpoint. */
  metrics: { bindAddress?: string };
  notifications: NotificationSettings;
}

/** The Web UI page of a workflow: notifications and reports link there. */
export const workflowLink = (config: Pick<ArchiverConfig, 'temporal'>, workflowId: string) =>
  `${config.temporal.webUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
