/**
 * 6. The peer a Node user would pick: @huggingface/transformers' `text-classification` pipeline on
 * the same ONNX file, local files only, with the same thread budget. Called once per review and
 * awaited, as an HTTP handler would, and with arrays (its best case). Its rounds interleave with
 * the fleets' rounds on the same texts (run-bench.ts).
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { summarize } from './measure-stats.ts';
import type { PeerResults } from './report.ts';

/** transformers.js knows BERT-family model types only; other models are loaded as `bert` (same inputs and logits). */
const KNOWN_TYPES = new Set([
  'bert',
  'distilbert',
  'roberta',
  'xlm-roberta',
  'albert',
  'electra',
  'deberta',
  'deberta-v2',
  'mobilebert',
]);

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
  for (const f of ['tokenizer.json', 'tokenizer_config.json'])
    symlinkSync(path.resolve(modelDir, f), path.join(dir, f));
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

/** The peer, loaded once: timed rounds on any texts, interleaved with the fleets' rounds. */
export interface Peer {
  version: string;
  intraOpThreads: number;
  note?: string;
  /**
   * One round: reviews/s called one by one (each awaited) on `texts[start]` … `texts[start + n - 1]`
   * (the reviews the fleets' round scored), then with arrays of `arrayBatch` from the same start
   * for `seconds`.
   */
  round(
    texts: readonly string[],
    start: number,
    n: number,
    seconds: number,
    arrayBatch: number,
  ): Promise<{ single: number; arrays: number }>;
  close(): Promise<void>;
}

/** Loads @huggingface/transformers' text-classification pipeline on the model's own ONNX file, or says why it cannot. */
export async function openPeer(
  modelDir: string,
): Promise<{ ok: true; peer: Peer } | { ok: false; results: PeerResults }> {
  let transformers: typeof import('@huggingface/transformers');
  try {
    transformers = await import('@huggingface/transformers');
  } catch (err) {
    return {
      ok: false,
      results: { status: 'missing', reason: `@huggingface/transformers cannot be loaded: ${(err as Error).message}` },
    };
  }
  try {
    const { pipeline, env } = transformers;
    env.allowRemoteModels = false;
    const dir = peerModelDir(modelDir);
    env.localModelPath = dir.root;
    const cores = os.availableParallelism();
    const classify = await pipeline('text-classification', dir.name, {
      dtype: 'fp32',
      device: 'cpu',
      session_options: { intraOpNumThreads: cores, interOpNumThreads: 1 },
    });
    await classify('warm-up review: good product, bad delivery');
    const peer: Peer = {
      version: (transformers as { env: { version?: string } }).env.version ?? 'unknown',
      intraOpThreads: cores,
      ...(dir.modelTypeNote ? { note: dir.modelTypeNote } : {}),
      async round(texts, start, count, seconds, arrayBatch) {
        const t0 = performance.now();
        for (let i = 0; i < count; i++) await classify(texts[(start + i) % texts.length]!);
        const single = count / ((performance.now() - t0) / 1000);
        let k = start;
        let n = 0;
        const t1 = performance.now();
        while (n < arrayBatch || performance.now() - t1 < seconds * 1000) {
          const chunk = Array.from({ length: arrayBatch }, () => texts[k++ % texts.length]!);
          await classify(chunk);
          n += chunk.length;
        }
        return { single, arrays: n / ((performance.now() - t1) / 1000) };
      },
      close: () => classify.dispose(),
    };
    return { ok: true, peer };
  } catch (err) {
    return { ok: false, results: { status: 'failed', reason: (err as Error).message } };
  }
}

/** Collects a peer's rounds per set into the report's shape. */
export function peerResults(
  peer: Peer,
  rounds: Record<string, { single: number; arrays: number }[]>,
  arrayBatch: number,
): PeerResults {
  const sets = Object.fromEntries(
    Object.entries(rounds).map(([name, list]) => [
      name,
      {
        perReviewPerS: summarize(
          list.map((r) => r.single),
          'reviews/s',
        ),
        arraysPerS: summarize(
          list.map((r) => r.arrays),
          'reviews/s',
        ),
        arrayBatch,
      },
    ]),
  );
  return {
    status: 'measured',
    version: peer.version,
    intraOpThreads: peer.intraOpThreads,
    sets,
    ...(peer.note ? { note: peer.note } : {}),
  };
}
