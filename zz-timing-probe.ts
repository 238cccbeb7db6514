import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { writeTinyModel } from './test/helpers/tiny-model.ts';
const texts = [
  'I really love this great phone, the battery is amazing and the screen is perfect',
  'terrible product, it arrived broken and the seller would not give a refund at all',
  'the phone arrived on monday and it works with my car, so far so good for me',
  'worst purchase ever, awful battery, poor screen, total waste of money, disappointed',
  'excellent value, fast shipping, would recommend to anyone looking for a phone',
  'it is ok i guess, nothing special about this item but it does the job fine',
  'happy with it after a week, nice build and wonderful camera for the price',
  'junk. useless. defective on day one and the support was horrible to deal with',
];
const [count, width] = process.argv.slice(2).map(Number) as [number, number];
const dir = await mkdtemp(join(tmpdir(), 'tiny-timing-'));
let t0 = performance.now();
const m = await writeTinyModel(dir, { extraLayers: { count, width } });
const writeMs = performance.now() - t0;
const tok = new Tokenizer(JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')));
const enc = texts.map((t) => tok.encode(t).ids);
const S = Math.max(...enc.map((e) => e.length));
const ids = new BigInt64Array(8 * S), mask = new BigInt64Array(8 * S);
enc.forEach((e, r) => e.forEach((id, c) => { ids[r * S + c] = BigInt(id); mask[r * S + c] = 1n; }));
t0 = performance.now();
const s = await ort.InferenceSession.create(m.modelPath);
const sessMs = performance.now() - t0;
const runs: string[] = [];
for (let k = 0; k < 5; k++) {
  t0 = performance.now();
  await s.run({ input_ids: new ort.Tensor('int64', ids, [8, S]), attention_mask: new ort.Tensor('int64', mask, [8, S]) });
  runs.push((performance.now() - t0).toFixed(0));
}
console.log(JSON.stringify({ count, width, tokensPerText: enc.map((e) => e.length), paddedTo: S, writeMs: writeMs.toFixed(0), sessionMs: sessMs.toFixed(0), runMs: runs, rssMB: (process.memoryUsage().rss / 1e6).toFixed(0) }));
await s.release(); await rm(dir, { recursive: true });
