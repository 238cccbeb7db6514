import { parentPort, workerData } from 'node:worker_threads';
import { toSfError } from '../errors/sf-error.ts';
import { createModelRunner, type ModelRunner } from './model-runner.ts';
import type { FromThread, ThreadData, ToThread } from './thread-protocol.ts';

// One inference thread: loads the model, then scores batches one at a time, explaining the items
// a batch flags. Only wiring here; the logic is in model-runner.ts.
const port = parentPort!;
const data = workerData as ThreadData;
const send = (message: FromThread) => port.postMessage(message);

let runner: ModelRunner;
try {
  runner = await createModelRunner(data.runner);
  send({ type: 'ready', info: runner.info });
} catch (err) {
  send({ type: 'init-error', error: toSfError(err, 'SF_ERR_MODEL_LOAD').toJSON() });
  process.exit(0);
}

port.on('message', async (message: ToThread) => {
  try {
    const { items, stats } = await runner.score(message.texts, message.explain?.flags, message.explain?.topK);
    send({ type: 'scored', id: message.id, items, stats });
  } catch (err) {
    send({ type: 'batch-error', id: message.id, error: toSfError(err, 'SF_ERR_INFERENCE').toJSON() });
  }
});
