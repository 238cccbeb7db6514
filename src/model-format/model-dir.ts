import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { SfError } from '../errors/sf-error.ts';

/** What a model directory declares, read and checked before any session is created. */
export interface ModelSpec {
  dir: string;
  /** The ONNX file: model.onnx, else onnx/model.onnx, else the first onnx/model*.onnx. */
  modelFile: string;
  tokenizerJson: object;
  tokenizerConfig: Record<string, unknown>;
  labels: string[];
  multiLabel: boolean;
  /** Longest input the model takes, special tokens included. */
  maxLength: number;
  name: string;
  version: string;
  modelType: string | undefined;
  /**
   * Temperature the logits are divided by before the softmax (or sigmoid): config.json
   * `calibration: {"method": "temperature", "temperature": T}`; 1 when absent.
   */
  temperature: number;
}

function loadError(dir: string, file: string, problem: string, cause?: unknown): SfError {
  return new SfError('SF_ERR_MODEL_LOAD', `model directory ${dir}: ${file} ${problem}`, {
    cause,
    details: { dir, file },
  });
}

function readJson(dir: string, file: string): Record<string, unknown> {
  const full = path.join(dir, file);
  if (!existsSync(full)) throw loadError(dir, file, 'is missing');
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(full, 'utf8'));
  } catch (err) {
    throw loadError(dir, file, `is not valid JSON (${(err as Error).message})`, err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw loadError(dir, file, 'must hold a JSON object');
  return value as Record<string, unknown>;
}

function findModelFile(dir: string): string {
  const candidates = [path.join(dir, 'model.onnx'), path.join(dir, 'onnx', 'model.onnx')];
  const onnxDir = path.join(dir, 'onnx');
  if (existsSync(onnxDir) && statSync(onnxDir).isDirectory()) {
    candidates.push(
      ...readdirSync(onnxDir)
        .filter((f) => /^model.*\.onnx$/.test(f))
        .sort()
        .map((f) => path.join(onnxDir, f)),
    );
  }
  const found = candidates.find((f) => existsSync(f) && statSync(f).isFile() && statSync(f).size > 0);
  if (!found)
    throw loadError(dir, 'model.onnx', 'is missing (looked for model.onnx, onnx/model.onnx and onnx/model*.onnx)');
  return found;
}

/** id2label as a dense list; keys must be 0..n-1. */
function parseLabels(dir: string, config: Record<string, unknown>): string[] {
  const id2label = config.id2label;
  if (typeof id2label !== 'object' || id2label === null || Array.isArray(id2label)) {
    throw loadError(dir, 'config.json', 'has no id2label object (e.g. {"0": "negative", "1": "positive"})');
  }
  const entries = Object.entries(id2label as Record<string, unknown>);
  const labels: string[] = [];
  for (const [key, label] of entries) {
    const index = Number(key);
    if (
      String(index) !== key ||
      !Number.isInteger(index) ||
      index < 0 ||
      index >= entries.length ||
      typeof label !== 'string' ||
      label === ''
    ) {
      throw loadError(
        dir,
        'config.json',
        `has a malformed id2label entry ${JSON.stringify(key)}: ${JSON.stringify(label)} (keys must be 0..n-1, labels non-empty strings)`,
      );
    }
    labels[index] = label;
  }
  for (let i = 0; i < entries.length; i++) {
    if (labels[i] === undefined)
      throw loadError(dir, 'config.json', `id2label must cover 0..${entries.length - 1} (no label ${i})`);
  }
  if (labels.length < 1) throw loadError(dir, 'config.json', 'id2label is empty');
  if (new Set(labels).size !== labels.length) throw loadError(dir, 'config.json', 'id2label has duplicate labels');
  return labels;
}

/** Tokenizer configs use 1e30 for "no limit"; the position embeddings bound it then. */
function parseMaxLength(config: Record<string, unknown>, tokenizerConfig: Record<string, unknown>): number {
  const limits = [tokenizerConfig.model_max_length, config.max_position_embeddings, config.n_positions].filter(
    (v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 2 && v < 1_000_000,
  );
  return limits.length > 0 ? Math.min(...limits) : 512;
}

/** config.json `calibration`: absent → 1; else it must be `{"method": "temperature", "temperature": T > 0}`. */
function parseTemperature(dir: string, config: Record<string, unknown>): number {
  const calibration = config.calibration;
  if (calibration === undefined) return 1;
  const c = calibration as Record<string, unknown> | null;
  const t = c?.temperature;
  if (
    typeof c !== 'object' ||
    c === null ||
    c.method !== 'temperature' ||
    typeof t !== 'number' ||
    !Number.isFinite(t) ||
    t <= 0 ||
    t > 1000
  ) {
    throw loadError(
      dir,
      'config.json',
      `has a malformed calibration ${JSON.stringify(calibration)} (expected {"method": "temperature", "temperature": a number in (0, 1000]})`,
    );
  }
  return t;
}

/** Reads and checks a model directory. Throws SF_ERR_MODEL_LOAD naming the bad file. */
export function readModelSpec(
  dir: string,
  overrides: { name?: string | undefined; version?: string | undefined } = {},
): ModelSpec {
  const absolute = path.resolve(dir);
  if (!existsSync(absolute) || !statSync(absolute).isDirectory()) {
    throw new SfError('SF_ERR_MODEL_LOAD', `model directory ${absolute} does not exist (set MODEL_DIR)`, {
      details: { dir: absolute },
    });
  }
  const modelFile = findModelFile(absolute);
  const config = readJson(absolute, 'config.json');
  const tokenizerJson = readJson(absolute, 'tokenizer.json');
  if (typeof tokenizerJson.model !== 'object' || tokenizerJson.model === null)
    throw loadError(absolute, 'tokenizer.json', 'has no "model" section');
  const tokenizerConfig = readJson(absolute, 'tokenizer_config.json');
  const labels = parseLabels(absolute, config);
  const version =
    overrides.version ??
    (typeof config.sf_version === 'string'
      ? config.sf_version
      : createHash('sha256').update(readFileSync(modelFile)).digest('hex').slice(0, 12));
  return {
    dir: absolute,
    modelFile,
    tokenizerJson,
    tokenizerConfig,
    labels,
    multiLabel: config.problem_type === 'multi_label_classification',
    maxLength: parseMaxLength(config, tokenizerConfig),
    name: overrides.name ?? path.basename(absolute),
    version,
    modelType: typeof config.model_type === 'string' ? config.model_type : undefined,
    temperature: parseTemperature(absolute, config),
  };
}
