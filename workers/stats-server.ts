// Stats service process: parse config, build the logger, start the stats server, install shutdown.
import { createStatsServer } from '../src/app/stats-server.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { runEntrypoint } from '../src/lifecycle/run-entrypoint.ts';

await runEntrypoint('stats', loadConfig, async (config, logger) => {
  const server = await createStatsServer(config, logger);
  if (process.send) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM')); // parent gone: close and exit
  return server.close;
});
