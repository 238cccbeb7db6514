import { Tokenizer } from '@huggingface/tokenizers';
import { SfError } from '../errors/sf-error.ts';
import { createContentEncoder } from './word-cache.ts';

export type Truncation = 'head-tail' | 'head';

export interface Encoded {
  ids: number[];
  truncated: boolean;
}

export interface EncoderOptions {
  maxTokens: number;
  truncation: Truncation;
}

/**
 * Tokenizes one text to model ids, special tokens included, truncated to `maxTokens`.
 *
 * Truncation cuts the content tokens, never the special ones. `head-tail` keeps the first
 * quarter of the budget and the last three quarters (reviews tend to open with context and
 * close with the verdict; Sun et al. 2019 found head+tail best for long reviews); `head`
 * keeps the start. No padding here: batches pad to their longest item.
 */
export function createEncoder(tokenizer: Tokenizer, options: EncoderOptions) {
  // Learn the special-token template ([CLS] ... [SEP], <s> ... </s>) from the tokenizer itself.
  const probe = tokenizer.encode('a', { add_special_tokens: false }).ids;
  const withSpecial = tokenizer.encode('a', { add_special_tokens: true }).ids;
  const start = withSpecial.findIndex((_, i) => probe.every((id, j) => withSpecial[i + j] === id));
  if (start < 0)
    throw new SfError('SF_ERR_MODEL_LOAD', 'tokenizer post-processor does not keep the text tokens in one piece');
  const prefix = withSpecial.slice(0, start);
  const suffix = withSpecial.slice(start + probe.length);
  const budget = options.maxTokens - prefix.length - suffix.length;
  if (budget < 1) throw new SfError('SF_ERR_CONFIG', `MAX_TOKENS ${options.maxTokens} leaves no room for text`);
  const head = options.truncation === 'head' ? budget : Math.floor(budget / 4);
  const contentIds = createContentEncoder(tokenizer);

  return {
    specialTokens: prefix.length + suffix.length,
    encode(text: string): Encoded {
      let content: number[];
      try {
        content = contentIds(text);
      } catch (err) {
        throw new SfError('SF_ERR_BAD_INPUT', 'text cannot be tokenized', { cause: err });
      }
      if (content.length === 0) throw new SfError('SF_ERR_BAD_INPUT', 'text has no tokens after normalization');
      const truncated = content.length > budget;
      if (truncated) content = [...content.slice(0, head), ...content.slice(content.length - (budget - head))];
      return { ids: [...prefix, ...content, ...suffix], truncated };
    },
  };
}

export type Encoder = ReturnType<typeof createEncoder>;

/**
 * Pads a group of encodings to its longest item into flat int64 tensors' data.
 * `padId` fills input_ids; attention_mask is 1 for real tokens, 0 for padding.
 */
export function padBatch(
  items: readonly number[][],
  padId: number,
): { inputIds: BigInt64Array; attentionMask: BigInt64Array; length: number } {
  const length = Math.max(...items.map((ids) => ids.length));
  const inputIds = new BigInt64Array(items.length * length).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(items.length * length);
  items.forEach((ids, row) => {
    const offset = row * length;
    for (let i = 0; i < ids.length; i++) {
      inputIds[offset + i] = BigInt(ids[i]!);
      attentionMask[offset + i] = 1n;
    }
  });
  return { inputIds, attentionMask, length };
}
