import { describe, expect, it } from 'vitest';
import { RESULT_BATCH_JOB_NAME } from '../../src/contracts/result-contract.ts';
import { SfError } from '../../src/errors/sf-error.ts';
import { readResultJob, resultJobEnd, type ResultJobContent } from '../../src/storage/result-job.ts';
import { makeResult } from '../helpers/results.ts';

const ok = (): PromiseSettledResult<unknown> => ({ status: 'fulfilled', value: undefined });
const failed = (reason: unknown): PromiseSettledResult<unknown> => ({ status: 'rejected', reason });

describe('readResultJob', () => {
  it('reads every well-formed result of a result batch, with where it sits', () => {
    const read = readResultJob({ name: RESULT_BATCH_JOB_NAME, data: { results: [makeResult('a'), makeResult('b')] } });
    expect(read).toEqual({
      ok: true,
      content: {
        total: 2,
        good: [
          { result: makeResult('a'), at: 'results.0' },
          { result: makeResult('b'), at: 'results.1' },
        ],
        problems: [],
      },
    });
  });

  it('lists a malformed result among the problems and keeps the others', () => {
    const read = readResultJob({
      name: RESULT_BATCH_JOB_NAME,
      data: { results: [makeResult('a'), { ...makeResult('b'), score: 'high' }] },
    });
    if (!read.ok) throw new Error('expected ok');
    expect(read.content.good.map((g) => g.at)).toEqual(['results.0']);
    expect(read.content.problems).toEqual([expect.objectContaining({ path: 'results.1.score' })]);
  });

  it('refuses a job of another name, naming it (cut to 100 characters)', () => {
    const read = readResultJob({ name: `result${'x'.repeat(200)}`, data: { results: [makeResult('a')] } });
    expect(read).toMatchObject({ ok: false, problems: [] });
    expect(!read.ok && read.message).toContain(`"result${'x'.repeat(94)}"`);
    expect(!read.ok && read.message).not.toContain('x'.repeat(95));
  });

  it('refuses a malformed envelope whole, with its problems at the root', () => {
    expect(readResultJob({ name: RESULT_BATCH_JOB_NAME, data: { results: [] } })).toMatchObject({
      ok: false,
      message: 'the result batch is malformed',
      problems: [{ path: 'results' }],
    });
    expect(readResultJob({ name: RESULT_BATCH_JOB_NAME, data: null })).toMatchObject({
      ok: false,
      problems: [{ path: '(root)' }],
    });
  });
});

describe('resultJobEnd', () => {
  const content = (total: number, good: number, problems = 0): ResultJobContent => ({
    total,
    good: Array.from({ length: good }, (_, i) => ({ result: makeResult(`r${i}`), at: `results.${i}` })),
    problems: Array.from({ length: problems }, (_, i) => ({ path: `results.${good + i}.label`, message: 'bad' })),
  });

  it('done when every result is stored', () => {
    expect(resultJobEnd(content(2, 2), [ok(), ok()])).toEqual({ kind: 'done' });
  });

  it('requeues when the database was unavailable, before any other failure counts', () => {
    const down = new SfError('SF_ERR_STORAGE', 'database unavailable', { details: { unavailable: true } });
    expect(resultJobEnd(content(3, 3), [failed(new SfError('SF_ERR_BAD_JOB', 'refused')), failed(down), ok()])).toEqual(
      { kind: 'requeue' },
    );
  });

  it('retries the whole job when a result failed for a retryable reason (or an unknown error)', () => {
    const cut = new SfError('SF_ERR_STORAGE', 'connection cut');
    expect(resultJobEnd(content(2, 2), [ok(), failed(cut)])).toEqual({ kind: 'retry', error: cut });
    const odd = new Error('odd');
    expect(resultJobEnd(content(1, 1), [failed(odd)])).toEqual({ kind: 'retry', error: odd });
  });

  it('refuses the job naming malformed and refused results; the message counts both', () => {
    const end = resultJobEnd(content(3, 2, 1), [
      failed(new SfError('SF_ERR_BAD_JOB', 'the database refused it')),
      ok(),
    ]);
    expect(end).toEqual({
      kind: 'refused',
      message: "2 of the job's 3 result(s) malformed or refused by the database; the others are stored",
      problems: [
        { path: 'results.2.label', message: 'bad' },
        { path: 'results.0', message: 'the database refused it' },
      ],
    });
  });
});
