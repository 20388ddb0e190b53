// How the archiver reaches Temporal, read as the temporal CLI reads it (a temporal.toml profile, the TEMPORAL_*
// variables) with the archiver's config file over both; and over mutual TLS, through a TLS front to the test
// server that only lets in a client certificate of its own CA.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configSecrets, parseConfig } from '../workers/config';
import { connectWorker } from '../workers/run';
import { cliFailure, runCli } from './harness';
import { testNamespace } from './namespace';

const dir = mkdtempSync(join(tmpdir(), 'archiver-connection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const site = { prod: { url: 'http://127.0.0.1:1', staging: join(dir, 'staging'), cli: { command: ['php'], moodleDir: '/srv/moodle' } } };
/** A config with only what a connection needs; `temporal` as given. */
const raw = (temporal?: Record<string, unknown>) => ({ ...(temporal ? { temporal } : {}), sites: site });
const toml = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const parse = (temporal: Record<string, unknown> | undefined, env: Record<string, string>) =>
  parseConfig(raw(temporal), { env, baseDir: dir, requireTokens: false });

describe('the Temporal connection: config file over TEMPORAL_* over a temporal.toml profile', () => {
  const profiles = toml(
    'temporal.toml',
    `[profile.default]\naddress = "from-default-profile:7233"\nnamespace = "ns-default"\n\n` +
      `[profile.cloud]\naddress = "from-cloud-profile:7233"\nnamespace = "ns-cloud"\napi_key = "key-from-profile-0123456789"\n` +
      `[profile.cloud.grpc_meta]\nx-team = "archive"\n`,
  );

  it('takes each part from the most specific place that gives it', () => {
    expect(parse(undefined, {}).temporal).toMatchObject({ address: 'localhost:7233', namespace: 'default' });
    expect(parse(undefined, { TEMPORAL_CONFIG_FILE: profiles }).temporal).toMatchObject({
      address: 'from-default-profile:7233',
      namespace: 'ns-default',
    });
    // The variables over the profile, as for the temporal CLI; the config file over both.
    const env = { TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'ns-env' };
    const fromEnv = parse(undefined, env);
    expect(fromEnv.temporal).toMatchObject({
      address: 'from-cloud-profile:7233',
      namespace: 'ns-env',
      apiKey: 'key-from-profile-0123456789',
      // A key turns TLS on; it is a secret the worker masks like a token.
      tls: true,
      metadata: { 'x-team': 'archive' },
    });
    expect(configSecrets(fromEnv, env)).toContain('key-from-profile-0123456789');
    expect(
      parse({ address: 'from-file:7233', namespace: 'ns-file' }, { ...env, TEMPORAL_ADDRESS: 'from-env:7233' }).temporal,
    ).toMatchObject({
      address: 'from-file:7233',
      namespace: 'ns-file',
    });
    // A profile named in the file, over TEMPORAL_PROFILE; a variable set empty counts as unset.
    expect(parse({ profile: 'default' }, { ...env, TEMPORAL_NAMESPACE: '' }).temporal).toMatchObject({
      address: 'from-default-profile:7233',
      namespace: 'ns-default',
    });
  });

  it('refuses what would connect somewhere unintended, naming the field', () => {
    const refused = (temporal: Record<string, unknown> | undefined, env: Record<string, string>, expected: RegExp) =>
      expect(() => parse(temporal, env), JSON.stringify({ temporal, env })).toThrow(expected);
    refused({ profile: 'staging' }, { TEMPORAL_CONFIG_FILE: profiles }, /temporal\.profile: Profile 'staging' not found/);
    refused(undefined, { TEMPORAL_CONFIG_FILE: join(dir, 'nowhere.toml') }, /TEMPORAL_CONFIG_FILE: no file at .*nowhere\.toml/);
    refused(undefined, { TEMPORAL_CONFIG_FILE: toml('typo.toml', '[profile.default]\nadress = "x:7233"\n') }, /temporal\.toml: .*adress/);
    refused({ tls: false }, { TEMPORAL_API_KEY: 'k' }, /temporal\.tls: false with an API key would send the key in clear/);
    refused(
      { tls: { clientCertFile: 'missing.pem', clientKeyFile: 'missing.key' } },
      {},
      /temporal\.tls\.clientCertFile: cannot read .*missing\.pem \(ENOENT\)/,
    );
    refused({ tls: { clientCertFile: 'a.pem' } }, {}, /temporal\.tls: give clientCertFile and clientKeyFile together/);
    refused({ tls: { clientCert: 'a.pem' } }, {}, /temporal\.tls\.clientCert: unknown setting/);
  });
});

/** A CA, a server certificate for temporal.test and a client certificate, made with openssl for this test. */
function certificates() {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=archiver test CA', '-days', '2');
  for (const [name, cn, ext] of [
    ['server', 'temporal.test', 'subjectAltName=DNS:temporal.test\nextendedKeyUsage=serverAuth\n'],
    ['client', 'archiver-worker', 'extendedKeyUsage=clientAuth\n'],
  ]) {
    writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\n${ext}`);
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  }
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
}

describe('over mutual TLS, from a temporal.toml profile', () => {
  let front: Server;
  let port: number;
  let files: ReturnType<typeof certificates>;
  /** The client certificates the front let in. */
  const admitted: string[] = [];

  beforeAll(async () => {
    files = certificates();
    const [host, upstream] = inject('temporalAddress').split(':');
    const { readFileSync } = await import('node:fs');
    front = createServer(
      {
        key: readFileSync(join(dir, 'server.key')),
        cert: readFileSync(join(dir, 'server.crt')),
        ca: readFileSync(files.ca),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket: TLSSocket) => {
        admitted.push(String(socket.getPeerCertificate().subject.CN));
        const server = connect(Number(upstream), host);
        socket.pipe(server).pipe(socket);
        const end = () => (socket.destroy(), server.destroy());
        socket.on('error', end);
        server.on('error', end);
      },
    );
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    port = (front.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => (front ? front.close(() => r()) : r())));

  const profile = (withClientCert: boolean) =>
    toml(
      withClientCert ? 'mtls.toml' : 'no-cert.toml',
      `[profile.default]\naddress = "127.0.0.1:${port}"\nnamespace = "${testNamespace}"\n` +
        `[profile.default.tls]\nserver_name = "temporal.test"\nserver_ca_cert_path = "${files.ca}"\n` +
        (withClientCert ? `client_cert_path = "${files.cert}"\nclient_key_path = "${files.key}"\n` : ''),
    );

  it("the CLI and the worker connect with the profile's certificates, and not without a client certificate", async () => {
    const config = toml('archiver.config.json', JSON.stringify(raw()));
    const env = { TEMPORAL_CONFIG_FILE: profile(true), TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '' };
    // The CLI's connection: a command that asks the server.
    const { stdout } = await runCli(['--config', config, 'sessions', 'list', '--query', 'WorkflowType = "archiveSession"'], env);
    expect(stdout).toBeDefined();
    expect(admitted).toContain('archiver-worker');
    // The worker's (native) connection, from the same config.
    const cfg = parseConfig(raw(), { env, baseDir: dir, requireTokens: false });
    const connection = await connectWorker(cfg);
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await connection.close();
    }
    expect(admitted.filter((cn) => cn === 'archiver-worker').length).toBeGreaterThanOrEqual(2);
    // The same from the archiver's own file alone: its tls table, paths relative to the file.
    const own = toml(
      'own-tls.json',
      JSON.stringify(
        raw({
          address: `127.0.0.1:${port}`,
          namespace: testNamespace,
          tls: { serverName: 'temporal.test', serverCaCertFile: 'ca.crt', clientCertFile: 'client.crt', clientKeyFile: 'client.key' },
        }),
      ),
    );
    const before = admitted.length;
    await runCli(['--config', own, 'sessions', 'list'], { TEMPORAL_CONFIG_FILE: join(dir, 'temporal.toml') });
    expect(admitted.slice(before)).toContain('archiver-worker');
    // Without a client certificate the front lets nothing in: the certificate above is what opened it.
    const refused = await cliFailure(runCli(['--config', config, 'sessions', 'list'], { ...env, TEMPORAL_CONFIG_FILE: profile(false) }));
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(
      new RegExp(
        `^Temporal at 127\\.0\\.0\\.1:${port} \\(namespace ${testNamespace}, TLS\\) did not answer: .+\\. Check temporal\\.address .*\\n$`,
      ),
    );
  });
});
