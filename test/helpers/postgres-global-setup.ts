import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where test files ask for the run's private PostgreSQL ('' with TEST_PG_ADMIN_URL set). */
    postgresBrokerUrl: string;
  }
}

/**
 * vitest globalSetup: one private PostgreSQL per test run, started on first use. Test files run
 * in worker processes; the first that asks (test/helpers/postgres.ts, GET on a loopback URL with
 * a random path) makes this process start the server (private-postgres.ts); every later ask gets
 * the same admin URL, or the same error. The server is stopped when the run ends. With
 * TEST_PG_ADMIN_URL set, the tests use that server and nothing is started here.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.TEST_PG_ADMIN_URL) {
    project.provide('postgresBrokerUrl', '');
    return async () => undefined;
  }
  let server: Promise<PrivatePostgres> | undefined;
  const token = randomBytes(16).toString('hex');
  const broker = http.createServer((req, res) => {
    if (req.url !== `/${token}/admin-url`) {
      res.writeHead(404).end();
      return;
    }
    server ??= startPrivatePostgres();
    server.then(
      (pg) => res.writeHead(200, { 'content-type': 'text/plain' }).end(pg.adminUrl),
      (err: Error) => res.writeHead(503, { 'content-type': 'text/plain' }).end(err.message),
    );
  });
  await new Promise<void>((resolve, reject) => {
    broker.once('error', reject);
    broker.listen(0, '127.0.0.1', resolve);
  });
  broker.unref();
  project.provide('postgresBrokerUrl', `http://127.0.0.1:${(broker.address() as AddressInfo).port}/${token}/admin-url`);
  return async () => {
    broker.close();
    await (await server?.catch(() => undefined))?.stop();
  };
}
