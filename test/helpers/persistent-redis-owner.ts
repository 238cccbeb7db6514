// A stand-in for `npm start` in test/integration/local-redis.test.ts: starts the persistent local
// Redis on the data dir given as argv[2] (argv[3] === 'no-launcher': without setpriv, as on a
// platform that lacks it), reports { port, pid } over IPC, then idles until it is killed.
import { startPersistentRedis } from '../../src/dev/persistent-redis.ts';
import { createLogger } from '../../src/logging/logger.ts';

const { redis } = await startPersistentRedis({
  dir: process.argv[2]!,
  logger: createLogger({ level: 'silent', format: 'json' }),
  ...(process.argv[3] === 'no-launcher' ? { launcher: [] } : {}),
});
process.send!({ port: redis.port, pid: redis.pid });
setInterval(() => undefined, 60_000);
