// Result sink process: parse config, build the logger, start the sink app, install shutdown.
import { createSinkApp } from '../src/app/sink-app.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { runEntrypoint } from '../src/lifecycle/run-entrypoint.ts';

await runEntrypoint('sink', loadConfig, async (config, logger) => {
  const app = await createSinkApp(config, logger);
  if (process.send) {
    process.send({ type: 'ready' });
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM')); // parent gone: drain and exit
  }
  return app.close;
});
