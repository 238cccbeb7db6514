import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { writeTinyModel } from './test/helpers/tiny-model.ts';
const texts = [
  'I love this great phone, the battery is amazing and the screen is perfect',
  'terrible product, it arrived broken and not a refund in my day',
  'the phone arrived on monday and it is so good for me',
  'worst item, awful battery, poor screen, waste, so disappointed',
  'excellent, would recommend it to my mom for the price',
  'it is ok, not special but it works for the day',
  'happy with it after a week, nice and wonderful phone',
  'junk. useless. defective on day one, the item was horrible',
];
const [count, width] = process.argv.slice(2).map(Number) as [number, number];
const dir = await mkdtemp(join(tmpdir(), 'tiny-timing-'));
const m = await writeTinyModel(dir, { extraLayers: { count, width } });
const tok = new Tokenizer(JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')));
const enc = texts.map((t) => tok.encode(t).ids);
const S = Math.max(...enc.map((e) => e.length));
const ids = new BigInt64Array(8 * S), mask = new BigInt64Array(8 * S);
enc.forEach((e, r) => e.forEach((id, c) => { ids[r * S + c] = BigInt(id); mask[r * S + c] = 1n; }));
let t0 = performance.now();
const s = await ort.InferenceSession.create(m.modelPath);
const sessMs = performance.now() - t0;
const runs: number[] = [];
for (let k = 0; k < 5; k++) {
  t0 = performance.now();
  await s.run({ input_ids: new ort.Tensor('int64', ids, [8, S]), attention_mask: new ort.Tensor('int64', mask, [8, S]) });
  runs.push(Math.round(performance.now() - t0));
}
console.log(JSON.stringify({ count, width, tokensPerText: enc.map((e) => e.length), paddedTo: S, sessionMs: Math.round(sessMs), runMs: runs, rssMB: Math.round(process.memoryUsage().rss / 1e6) }));
await s.release(); await rm(dir, { recursive: true });
