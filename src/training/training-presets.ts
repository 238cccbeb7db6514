/**
 * Named training setups, so the default model can be rebuilt with one shell-free command
 * (`npm run model:train` = `sentiment-fleet train --preset default`). Data paths resolve under
 * the configured SHARED_DIR; command-line options override the preset's values.
 */
import path from 'node:path';
import { SfError } from '../errors/sf-error.ts';
import type { HashedNgramHyperparameters } from './hashed-ngram-hyperparameters.ts';

export interface TrainingDataFile {
  file: string;
  /** Loss weight of each of its rows. */
  weight: number;
}

export interface TrainingPreset {
  data: TrainingDataFile[];
  dev: string[];
  out: string;
  hyperparameters: Partial<HashedNgramHyperparameters>;
}

export const AMAZON_DOMAINS = ['books', 'dvd', 'electronics', 'kitchen'] as const;

/**
 * Amazon reviews weigh 5× an SST-2 phrase: 6,800 reviews against 67,349 phrases, and the fleet
 * scores product reviews. Chosen by 3-fold cross-validation on the Amazon train files (weights
 * 1, 3, 5, 10 tried; 5 and 10 tie on Amazon, 10 costs SST-2 accuracy).
 */
export const AMAZON_WEIGHT = 5;

/** The 5 train files and 5 dev files of the default model, under `sharedDir`. */
function defaultPreset(sharedDir: string): TrainingPreset {
  const data = (file: string) => path.join(sharedDir, 'data', file);
  return {
    data: [
      { file: data('sst2/train.jsonl'), weight: 1 },
      ...AMAZON_DOMAINS.map((d) => ({ file: data(`amazon-multidomain/${d}-train.jsonl`), weight: AMAZON_WEIGHT })),
    ],
    dev: [data('sst2/dev.jsonl'), ...AMAZON_DOMAINS.map((d) => data(`amazon-multidomain/${d}-dev.jsonl`))],
    out: 'models/review-sentiment-en',
    hyperparameters: {},
  };
}

export const PRESET_NAMES = ['default'] as const;

export function resolvePreset(name: string, sharedDir: string): TrainingPreset {
  if (name === 'default') return defaultPreset(sharedDir);
  throw new SfError('SF_ERR_CONFIG', `unknown preset "${name}" (known: ${PRESET_NAMES.join(', ')})`);
}
