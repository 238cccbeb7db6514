import { Tokenizer } from '@huggingface/tokenizers';
import { SfError } from '../errors/sf-error.ts';
import type { ModelSpec } from '../model-format/model-dir.ts';
import { createEncoder, type Encoder, type Truncation } from './encoder.ts';

export interface ModelTokenizer {
  tokenizer: Tokenizer;
  encoder: Encoder;
  /** Id of the tokenizer's pad token (0 when it names none). */
  padId: number;
  /** Truncation length: the smaller of the setting and the model's maximum. */
  maxTokens: number;
}

/**
 * A model directory's tokenizer and encoder, as the inference threads use them. The worker's main
 * thread loads the same one to count a review's tokens before batching (token-budget.ts).
 */
export function loadModelTokenizer(
  spec: ModelSpec,
  options: { maxTokens?: number | undefined; truncation: Truncation },
): ModelTokenizer {
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(spec.tokenizerJson, spec.tokenizerConfig);
  } catch (err) {
    throw new SfError(
      'SF_ERR_MODEL_LOAD',
      `model directory ${spec.dir}: tokenizer.json cannot be loaded (${(err as Error).message})`,
      { cause: err },
    );
  }
  const maxTokens = Math.min(options.maxTokens ?? spec.maxLength, spec.maxLength);
  const encoder = createEncoder(tokenizer, { maxTokens, truncation: options.truncation });
  const padToken = typeof spec.tokenizerConfig.pad_token === 'string' ? spec.tokenizerConfig.pad_token : '[PAD]';
  return { tokenizer, encoder, padId: tokenizer.token_to_id(padToken) ?? 0, maxTokens };
}
