// An inference thread for the chaos run and the fault tests: src/inference/inference-thread.ts
// behind one more message listener. When the worker's main thread has armed a crash
// (thread-crash.ts), the first thread to take a batch clears the shared flag and dies with the
// batch in hand, before the real listener (and the model) sees it, as a crashing thread would.
import { getEnvironmentData, parentPort } from 'node:worker_threads';
import { THREAD_CRASH_KEY } from './thread-crash.ts';

const shared = getEnvironmentData(THREAD_CRASH_KEY);
const flag = shared instanceof SharedArrayBuffer ? new Int32Array(shared) : undefined;

parentPort!.addEventListener('message', (event) => {
  const message = (event as MessageEvent<{ type?: string }>).data;
  if (message.type !== 'score' || !flag || Atomics.compareExchange(flag, 0, 1, 0) !== 1) return;
  event.stopImmediatePropagation(); // the real listener never sees this batch
  throw new Error('injected inference thread crash'); // uncaught: the thread dies
});

// Imported after the listener above is in place, so that listener runs first.
await import('../src/inference/inference-thread.ts');
