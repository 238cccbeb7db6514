// One session of the compute ceiling's parallel layout (bench/in-process.ts): runs pre-built
// feeds on its own onnxruntime session in a worker thread, for as long as the main thread asks.
// Plain JavaScript: a worker thread of the bench needs no TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const { modelFile, intraOpThreads, feeds } = workerData;
const session = await ort.InferenceSession.create(modelFile, {
  intraOpNumThreads: intraOpThreads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const tensors = feeds.map((f) => ({
  rows: f.rows,
  real: f.real,
  feed: Object.fromEntries(Object.entries(f.inputs).map(([k, v]) => [k, new ort.Tensor('int64', v.data, v.dims)])),
}));
await session.run(tensors[0].feed, ['logits']); // warm-up
parentPort.postMessage({ type: 'ready' });
parentPort.on('message', async ({ type, start, seconds, minRows }) => {
  if (type === 'close') {
    await session.release();
    process.exit(0);
  }
  let n = 0;
  let real = 0;
  let k = start;
  const t0 = performance.now();
  while (n < minRows || performance.now() - t0 < seconds * 1000) {
    const f = tensors[k++ % tensors.length];
    await session.run(f.feed, ['logits']);
    n += f.rows;
    real += f.real;
  }
  parentPort.postMessage({ type: 'done', n, real, secs: (performance.now() - t0) / 1000, end: k });
});
