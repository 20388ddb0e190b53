// Where and how the archiver reaches Temporal, read as the temporal CLI and the SDKs read it
// (@temporalio/envconfig: a profile of temporal.toml, then the TEMPORAL_* variables over it), with the
// archiver's own config file over both: one file says everything a worker host needs, and an operator's
// temporal CLI profile works for the archiver as it is.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import type { TemporalSettings, TemporalTls } from '../contract';

/** The config file's `temporal` section: every field optional but the Web UI's address. */
export interface TemporalFileSettings {
  profile?: string;
  address?: string;
  namespace?: string;
  tls?: boolean | { serverName?: string; serverCaCertFile?: string; clientCertFile?: string; clientKeyFile?: string };
  webUiUrl: string;
}

/** The connection, from the file over the environment over the profile; what is wrong goes to `problems`, each named. */
export function resolveTemporal(
  file: TemporalFileSettings,
  vars: NodeJS.ProcessEnv,
  baseDir: string,
  problems: string[],
): TemporalSettings {
  // A variable set empty (TEMPORAL_ADDRESS= in a unit file) is unset, not an empty address.
  const env = Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => Boolean(e[1])));
  const tomlFile = env.TEMPORAL_CONFIG_FILE;
  // envconfig takes a missing file for "no profiles": a path set by hand that leads nowhere is a mistake to say.
  if (tomlFile && !existsSync(tomlFile))
    problems.push(`TEMPORAL_CONFIG_FILE: no file at ${tomlFile}; point it at your temporal.toml, or unset it`);
  let base: ClientConnectConfig = { connectionOptions: {} };
  try {
    base = loadClientConnectConfig({
      profile: file.profile,
      overrideEnvVars: env,
      // A misspelt key in temporal.toml is refused, as in the archiver's own file.
      configFileStrict: true,
    });
  } catch (e) {
    const field = file.profile ? 'temporal.profile' : env.TEMPORAL_PROFILE ? 'TEMPORAL_PROFILE' : 'temporal.toml';
    problems.push(`${field}: ${(e as Error).message} (${tomlFile ?? 'the default temporal.toml'}); fix it, or name another profile`);
  }
  const given = base.connectionOptions;
  const tls = fileTls(file.tls, given.tls as TemporalTls | boolean | undefined, baseDir, problems);
  if (given.apiKey && tls === false)
    problems.push('temporal.tls: false with an API key would send the key in clear; remove "tls": false (TLS is on with a key)');
  return {
    address: file.address ?? given.address ?? 'localhost:7233',
    namespace: file.namespace ?? base.namespace ?? 'default',
    ...(tls !== undefined ? { tls } : {}),
    ...(given.apiKey ? { apiKey: given.apiKey } : {}),
    ...(given.metadata && Object.keys(given.metadata).length ? { metadata: given.metadata as Record<string, string> } : {}),
    webUiUrl: file.webUiUrl,
  };
}

/** The file's `tls` over the profile's: false turns it off, true keeps the profile's certificates, a table replaces them. */
function fileTls(
  setting: TemporalFileSettings['tls'],
  fromProfile: TemporalTls | boolean | undefined,
  baseDir: string,
  problems: string[],
): TemporalTls | boolean | undefined {
  if (setting === undefined) return fromProfile;
  if (setting === false) return false;
  if (setting === true) return fromProfile || true;
  const read = (field: keyof typeof setting) => {
    const path = setting[field];
    if (!path) return undefined;
    const file = resolve(baseDir, path);
    try {
      return readFileSync(file);
    } catch (e) {
      problems.push(`temporal.tls.${field}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      return undefined;
    }
  };
  const crt = read('clientCertFile');
  const key = read('clientKeyFile');
  if (Boolean(setting.clientCertFile) !== Boolean(setting.clientKeyFile))
    problems.push('temporal.tls: give clientCertFile and clientKeyFile together (a client certificate is used with its key)');
  return {
    ...(setting.serverName ? { serverNameOverride: setting.serverName } : {}),
    ...(setting.serverCaCertFile ? { serverRootCACertificate: read('serverCaCertFile') } : {}),
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
  };
}

/** What both kinds of connection (the worker's native one, the CLI's) take. */
export function connectionOptions(t: TemporalSettings) {
  const buf = (b?: Uint8Array) => (b ? Buffer.from(b) : undefined);
  const tls =
    typeof t.tls === 'object'
      ? {
          serverNameOverride: t.tls.serverNameOverride,
          serverRootCACertificate: buf(t.tls.serverRootCACertificate),
          clientCertPair: t.tls.clientCertPair && { crt: buf(t.tls.clientCertPair.crt)!, key: buf(t.tls.clientCertPair.key)! },
        }
      : t.tls;
  return { address: t.address, tls, apiKey: t.apiKey, metadata: t.metadata };
}

/** Temporal did not answer a connection: said in one line, naming where it was looked for and how. */
export class TemporalUnreachable extends Error {}

/** Connects with `connect`; a failure says where the connection went and how, and where that came from. */
export async function reaching<T>(t: TemporalSettings, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (e) {
    const how = [
      `namespace ${t.namespace}`,
      t.tls ? 'TLS' : 'no TLS',
      ...(typeof t.tls === 'object' && t.tls.clientCertPair ? ['a client certificate'] : []),
      ...(t.apiKey ? ['an API key'] : []),
    ].join(', ');
    throw new TemporalUnreachable(
      `Temporal at ${t.address} (${how}) did not answer: ${(e as Error).message}. Check temporal.address (or TEMPORAL_ADDRESS, or your temporal.toml profile) and that the server runs`,
    );
  }
}
