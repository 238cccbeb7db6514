import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { SfError } from '../../src/errors/sf-error.ts';
import { createReviewValidator } from '../../src/ingest/review-validation.ts';

function configProblems(env: Record<string, string>): { setting: string; problem: string }[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(SfError);
    return (err as SfError).details?.problems as { setting: string; problem: string }[];
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe('EXPLAIN and EXPLAIN_TOP_K', () => {
  it('default to explaining only reviews that ask, top 5', () => {
    expect(loadConfig({}).explain).toEqual({ all: false, topK: 5 });
  });

  it('take true/false and 1..50', () => {
    expect(loadConfig({ EXPLAIN: 'true', EXPLAIN_TOP_K: '50' }).explain).toEqual({ all: true, topK: 50 });
    expect(loadConfig({ EXPLAIN: 'TRUE' }).explain.all).toBe(true);
    expect(loadConfig({ EXPLAIN: 'false', EXPLAIN_TOP_K: '1' }).explain).toEqual({ all: false, topK: 1 });
  });

  it('reject anything else, by name', () => {
    expect(configProblems({ EXPLAIN: 'yes' })).toEqual([{ setting: 'EXPLAIN', problem: 'must be true or false' }]);
    expect(configProblems({ EXPLAIN: '1', EXPLAIN_TOP_K: '0' }).map((p) => p.setting)).toEqual([
      'EXPLAIN',
      'EXPLAIN_TOP_K',
    ]);
    expect(configProblems({ EXPLAIN_TOP_K: '51' }).map((p) => p.setting)).toEqual(['EXPLAIN_TOP_K']);
  });
});

describe('review "explain" field', () => {
  const validator = createReviewValidator({ maxTextChars: 100 });

  it('is optional and kept when a boolean', () => {
    expect(validator.check({ id: 'a', text: 'ok', explain: true })).toEqual({
      ok: true,
      review: { id: 'a', text: 'ok', explain: true },
    });
    expect(validator.check({ id: 'a', text: 'ok', explain: false })).toEqual({
      ok: true,
      review: { id: 'a', text: 'ok', explain: false },
    });
  });

  it('must be a boolean', () => {
    expect(validator.check({ id: 'a', text: 'ok', explain: 'true' })).toEqual({
      ok: false,
      problems: [{ path: 'explain', message: 'explain must be true or false' }],
    });
  });
});
