import { parentPort, workerData } from 'node:worker_threads';
import { toSfError } from '../errors/sf-error.ts';
import { createModelRunner, type ModelRunner } from './model-runner.ts';
import { lowerThreadPriority } from './thread-priority.ts';
import type { FromThread, ThreadData, ToThread } from './thread-protocol.ts';

// One inference thread: loads the model, then scores batches one at a time, explaining the items
// a batch flags. Only wiring here; the logic is in model-runner.ts.
const port = parentPort!;
const data = workerData as ThreadData;
const send = (message: FromThread) => port.postMessage(message);

let runner: ModelRunner;
const routed = new Map<string, ModelRunner>();
// First, so that onnxruntime's intra-op threads, started with the sessions, inherit it.
const niceError = data.nice === undefined ? undefined : lowerThreadPriority(data.nice);
try {
  runner = await createModelRunner(data.runner);
  for (const m of data.models ?? []) routed.set(m.key, await createModelRunner(m.runner));
  send({
    type: 'ready',
    info: runner.info,
    models: Object.fromEntries([...routed].map(([key, r]) => [key, r.info])),
    ...(niceError ? { niceError } : {}),
  });
} catch (err) {
  send({ type: 'init-error', error: toSfError(err, 'SF_ERR_MODEL_LOAD').toJSON() });
  process.exit(0);
}

port.on('message', async (message: ToThread) => {
  try {
    const chosen = message.model === undefined ? runner : routed.get(message.model);
    if (!chosen) throw new Error(`this thread has no model "${message.model}"`);
    const { items, stats } = await chosen.score(message.texts, message.explain?.flags, message.explain?.topK);
    send({ type: 'scored', id: message.id, items, stats });
  } catch (err) {
    send({ type: 'batch-error', id: message.id, error: toSfError(err, 'SF_ERR_INFERENCE').toJSON() });
  }
});
