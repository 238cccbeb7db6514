// The chaos run's inference worker: workers/inference-worker.ts, whose inference threads can be
// crashed from outside. SIGUSR2 makes the thread that takes the worker's next batch die with it
// (thread-crash.ts); the product's entrypoint and code paths have no such hook.
import { createWorkerApp } from '../src/app/worker-app.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { runEntrypoint } from '../src/lifecycle/run-entrypoint.ts';
import { crashingWorkerOptions, installCrashSignal } from './thread-crash.ts';

await runEntrypoint('worker', loadConfig, async (config, logger) => {
  const app = await createWorkerApp(config, logger, crashingWorkerOptions());
  const uninstall = installCrashSignal(logger);
  if (process.send) {
    process.send({ type: 'ready' }); // the chaos fleet waits for this
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM')); // parent gone: drain and exit
  }
  return async () => {
    uninstall();
    await app.close();
  };
});
