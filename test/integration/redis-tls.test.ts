import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, startLocalRedis, type LocalRedis } from '../../src/dev/local-redis.ts';
import { PROJECT_ROOT } from '../helpers/fleet.ts';
import { missingBackend } from '../helpers/backends.ts';

// rediss:// (TLS) with a password: the fleet's connections verify the server certificate against
// the system CAs plus NODE_EXTRA_CA_CERTS (a private CA), as documented in docs/security.md.
const run = promisify(execFile);

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A private CA and a server certificate for localhost / 127.0.0.1 signed by it. */
function writeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=sf-test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  );
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

// A separate process: NODE_EXTRA_CA_CERTS is read once, when node starts.
const CLIENT = `
import { createRedisConnection, waitForRedis, closeRedisConnection } from './src/queue/redis-connection.ts';
import { createLogger } from './src/logging/logger.ts';
const connection = createRedisConnection(process.env.REDIS_URL, 'producer', createLogger({ level: 'silent', format: 'json' }));
try {
  await waitForRedis(connection, Number(process.env.WAIT_MS ?? 5000));
  await connection.set('sf:tls-test', 'ok');
  console.log(JSON.stringify({ tls: Boolean(connection.options.tls), value: await connection.get('sf:tls-test') }));
} catch (err) {
  console.log(JSON.stringify({ error: String(err.message) }));
} finally {
  connection.disconnect();
}
`;

async function connectFromChild(
  url: string,
  extraEnv: Record<string, string>,
): Promise<{ tls?: boolean; value?: string; error?: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: url, ...extraEnv };
  if (!('NODE_EXTRA_CA_CERTS' in extraEnv)) delete env.NODE_EXTRA_CA_CERTS;
  // A handshake the client gave up on can still deliver the server's TLS alert after disconnect()
  // (seen under load: an 'error' event on a TLSSocket with no listener left, exit code 1). What the
  // connection reported before is on stdout either way.
  const stdout = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CLIENT], {
    cwd: PROJECT_ROOT,
    env,
    timeout: 30_000,
  }).then(
    (r) => r.stdout,
    (err: { stdout?: string }) => {
      if (!err.stdout?.trim()) throw err;
      return err.stdout;
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const noOpenssl = missingBackend(hasOpenssl() ? undefined : 'openssl is not on PATH (apt-get install openssl)');
describe.skipIf(noOpenssl)('Redis over TLS (rediss://) with a password', () => {
  let dir: string;
  let certs: ReturnType<typeof writeCertificates>;
  let redis: LocalRedis;
  let tlsPort: number;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sf-tls-'));
    certs = writeCertificates(dir);
    tlsPort = await findFreePort();
    redis = await startLocalRedis({
      password: 's3cret',
      args: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        certs.cert,
        '--tls-key-file',
        certs.key,
        '--tls-ca-cert-file',
        certs.ca,
        '--tls-auth-clients',
        'no',
      ],
    });
  });
  afterAll(async () => {
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects with rediss:// and the private CA in NODE_EXTRA_CA_CERTS', async () => {
    const outcome = await connectFromChild(`rediss://:s3cret@localhost:${tlsPort}`, { NODE_EXTRA_CA_CERTS: certs.ca });
    expect(outcome).toEqual({ tls: true, value: 'ok' });
  });

  it('refuses a server certificate it cannot verify, and a wrong password', async () => {
    // Without the CA, every TLS handshake fails (ioredis keeps retrying until the start-up wait ends).
    const untrusted = await connectFromChild(`rediss://:s3cret@localhost:${tlsPort}`, { WAIT_MS: '1500' });
    expect(untrusted.error).toMatch(/did not answer within 1500 ms|certificate/);
    const wrong = await connectFromChild(`rediss://:nope@localhost:${tlsPort}`, { NODE_EXTRA_CA_CERTS: certs.ca });
    expect(wrong.error).toMatch(/refused the credentials/);
  });
});
