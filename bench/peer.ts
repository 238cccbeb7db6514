/**
 * 6. The peer a Node user would pick: @huggingface/transformers' `text-classification` pipeline on
 * the same ONNX file, local files only, with the same thread budget. Called once per review and
 * awaited, as an HTTP handler would, and with arrays (its best case).
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reviewModelText } from '../src/tokenize/review-text.ts';
import type { BenchReview } from './bench-texts.ts';
import { summarize } from './measure-stats.ts';
import type { PeerResults } from './report.ts';

/** transformers.js knows BERT-family model types only; other models are loaded as `bert` (same inputs and logits). */
const KNOWN_TYPES = new Set(['bert', 'distilbert', 'roberta', 'xlm-roberta', 'albert', 'electra', 'deberta', 'deberta-v2', 'mobilebert']);

/**
 * A directory in transformers.js' layout (<name>/onnx/model.onnx) whose files are symlinks to the
 * model directory's own files, so the peer runs the very same ONNX file.
 */
function peerModelDir(modelDir: string): { root: string; name: string; modelTypeNote?: string } {
  const root = path.join(os.tmpdir(), 'sf-bench-peer');
  const name = path.basename(path.resolve(modelDir));
  const dir = path.join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) symlinkSync(path.resolve(modelDir, f), path.join(dir, f));
  symlinkSync(path.resolve(modelDir, 'model.onnx'), path.join(dir, 'onnx', 'model.onnx'));
  const config = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as { model_type?: string };
  let modelTypeNote: string | undefined;
  if (!KNOWN_TYPES.has(config.model_type ?? '')) {
    modelTypeNote = `config.json model_type "${config.model_type}" is unknown to transformers.js; the peer loads the same ONNX file as model_type "bert"`;
    config.model_type = 'bert';
  }
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return { root: `${root}/`, name, ...(modelTypeNote ? { modelTypeNote } : {}) };
}

export async function measurePeer(modelDir: string, sets: Record<string, readonly BenchReview[]>, p: { rounds: number; seconds: number; arrayBatch: number }): Promise<PeerResults> {
  let transformers: typeof import('@huggingface/transformers');
  try {
    transformers = await import('@huggingface/transformers');
  } catch (err) {
    return { status: 'missing', reason: `@huggingface/transformers cannot be loaded: ${(err as Error).message}` };
  }
  const { pipeline, env } = transformers;
  env.allowRemoteModels = false;
  const dir = peerModelDir(modelDir);
  env.localModelPath = dir.root;
  const cores = os.availableParallelism();
  const classify = await pipeline('text-classification', dir.name, { dtype: 'fp32', device: 'cpu', session_options: { intraOpNumThreads: cores, interOpNumThreads: 1 } });
  const out: PeerResults = { status: 'measured', version: (transformers as { env: { version?: string } }).env.version ?? 'unknown', intraOpThreads: cores, sets: {}, ...(dir.modelTypeNote ? { note: dir.modelTypeNote } : {}) };
  for (const [name, reviews] of Object.entries(sets)) {
    const texts = reviews.map(reviewModelText);
    await classify(texts[0]!);
    const single: number[] = [];
    const arrays: number[] = [];
    let k = 0;
    for (let r = 0; r < p.rounds; r++) {
      let n = 0;
      const t0 = performance.now();
      while (n < 1 || performance.now() - t0 < p.seconds * 1000) {
        await classify(texts[k++ % texts.length]!);
        n++;
      }
      single.push(n / ((performance.now() - t0) / 1000));
      n = 0;
      const t1 = performance.now();
      while (n < p.arrayBatch || performance.now() - t1 < p.seconds * 1000) {
        const chunk = Array.from({ length: p.arrayBatch }, () => texts[k++ % texts.length]!);
        await classify(chunk);
        n += chunk.length;
      }
      arrays.push(n / ((performance.now() - t1) / 1000));
    }
    out.sets[name] = { perReviewPerS: summarize(single, 'reviews/s'), arraysPerS: summarize(arrays, 'reviews/s'), arrayBatch: p.arrayBatch };
  }
  await classify.dispose();
  return out;
}
