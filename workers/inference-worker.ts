// Inference worker process: parse config, build the logger, start the worker app, install shutdown.
import { createWorkerApp } from '../src/app/worker-app.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { runEntrypoint } from '../src/lifecycle/run-entrypoint.ts';

await runEntrypoint('worker', loadConfig, async (config, logger) => {
  const app = await createWorkerApp(config, logger);
  if (process.send) {
    process.send({ type: 'ready' }); // `npm start` waits for this before it opens ingest
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM')); // parent gone: drain and exit
  }
  return app.close;
});
