// Bootstraps an inference thread. Node does not apply the parent's TypeScript loader to
// worker_threads, so when the entry is a .ts file (running under tsx) it registers tsx first.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
