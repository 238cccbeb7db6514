/**
 * The language-ID model directory (models/lang-id): `config.json` (labels, feature settings,
 * weight scale, bias) and `weights.bin` (int8, row-major [buckets, labels]). Written by
 * src/training/language-id-training.ts, read here; a malformed directory fails with
 * SF_ERR_MODEL_LOAD naming the file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SfError } from '../errors/sf-error.ts';
import type { LanguageIdSpec, LanguageIdWeights } from './language-id.ts';

export const LANGUAGE_ID_MODEL_TYPE = 'char-ngram-language-id';
export const WEIGHTS_FILE = 'weights.bin';

const configSchema = z.object({
  model_type: z.literal(LANGUAGE_ID_MODEL_TYPE),
  labels: z.array(z.string().min(1)).min(2).max(64),
  buckets: z
    .number()
    .int()
    .min(1)
    .max(2 ** 24),
  max_order: z.number().int().min(1).max(8),
  max_chars: z.number().int().min(1).max(1_000_000),
  min_latin_share: z.number().min(0).max(1),
  weight_scale: z.number().positive().finite(),
  bias: z.array(z.number().finite()),
  sf_version: z.string().min(1),
});

export type LanguageIdConfig = z.infer<typeof configSchema>;

export interface LoadedLanguageIdModel extends LanguageIdWeights {
  dir: string;
  version: string;
}

function loadError(dir: string, file: string, problem: string, cause?: unknown): SfError {
  return new SfError('SF_ERR_MODEL_LOAD', `language-ID model ${dir}: ${file} ${problem}`, {
    cause,
    details: { dir, file },
  });
}

export function specOf(config: LanguageIdConfig): LanguageIdSpec {
  return {
    labels: config.labels,
    buckets: config.buckets,
    maxOrder: config.max_order,
    maxChars: config.max_chars,
    minLatinShare: config.min_latin_share,
  };
}

export function loadLanguageIdModel(dir: string): LoadedLanguageIdModel {
  const absolute = path.resolve(dir);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path.join(absolute, 'config.json'), 'utf8'));
  } catch (err) {
    throw loadError(absolute, 'config.json', `cannot be read (${(err as Error).message})`, err);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success)
    throw loadError(
      absolute,
      'config.json',
      `is malformed (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`,
    );
  const config = parsed.data;
  if (config.bias.length !== config.labels.length)
    throw loadError(
      absolute,
      'config.json',
      `has ${config.bias.length} bias values for ${config.labels.length} labels`,
    );
  let bytes: Buffer;
  try {
    bytes = readFileSync(path.join(absolute, WEIGHTS_FILE));
  } catch (err) {
    throw loadError(absolute, WEIGHTS_FILE, `cannot be read (${(err as Error).message})`, err);
  }
  const expected = config.buckets * config.labels.length;
  if (bytes.byteLength !== expected)
    throw loadError(absolute, WEIGHTS_FILE, `has ${bytes.byteLength} bytes, expected buckets × labels = ${expected}`);
  return {
    dir: absolute,
    version: config.sf_version,
    spec: specOf(config),
    weights: new Int8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
    scale: config.weight_scale,
    bias: Float32Array.from(config.bias),
  };
}
