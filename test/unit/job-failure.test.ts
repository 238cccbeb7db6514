import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCodes, type ErrorCode } from '../../src/contracts/error-codes.ts';
import { MAX_REASON_PROBLEMS, decodeJobFailure, encodeJobFailure } from '../../src/contracts/job-failure.ts';
import { toJobError } from '../../src/queue/job-error.ts';
import { SfError } from '../../src/errors/sf-error.ts';
import { UnrecoverableError } from 'bullmq';

describe('job failure reasons', () => {
  it('decode what they encode, for every registered code, whatever the message holds', () => {
    const message = 'a: b: "quoted" {json} \n second line';
    for (const code of Object.keys(errorCodes) as ErrorCode[]) {
      expect(decodeJobFailure(encodeJobFailure({ code, message }))).toEqual({ code, message });
    }
    const problems = [{ path: 'results.3.label', message: 'label is required' }];
    expect(decodeJobFailure(encodeJobFailure({ code: 'SF_ERR_BAD_JOB', message: 'malformed', problems }))).toEqual({
      code: 'SF_ERR_BAD_JOB',
      message: 'malformed',
      problems,
    });
  });

  it('are one line of JSON that starts with the code, readable as they are in bull-board', () => {
    const reason = encodeJobFailure({
      code: 'SF_ERR_BAD_INPUT',
      message: 'the text has no tokens after normalization',
    });
    expect(reason).toBe('{"code":"SF_ERR_BAD_INPUT","message":"the text has no tokens after normalization"}');
    expect(encodeJobFailure({ code: 'SF_ERR_BAD_JOB', message: 'x\ny' })).not.toContain('\n');
  });

  it('are bounded: at most MAX_REASON_PROBLEMS problems and 1,000 characters per message', () => {
    const problems = Array.from({ length: 500 }, (_, i) => ({ path: `results.${i}`, message: 'm'.repeat(5000) }));
    const decoded = decodeJobFailure(
      encodeJobFailure({ code: 'SF_ERR_BAD_JOB', message: 'x'.repeat(50_000), problems }),
    );
    expect(decoded.message).toHaveLength(1001);
    expect(decoded.problems).toHaveLength(MAX_REASON_PROBLEMS);
    expect(decoded.problems![0]!.message).toHaveLength(1001);
  });

  it('read the `CODE: message` reasons of jobs failed before the JSON encoding', () => {
    expect(decodeJobFailure('SF_ERR_BAD_JOB: job data is not a valid review: text: text is required')).toEqual({
      code: 'SF_ERR_BAD_JOB',
      message: 'job data is not a valid review: text: text is required',
    });
    expect(decodeJobFailure('SF_ERR_NOT_A_CODE: x').code).toBe('OTHER');
  });

  it("name BullMQ's own stalled-limit reason, as BullMQ writes it", () => {
    // The text comes from BullMQ's script: a BullMQ that words it otherwise fails this test.
    const script = path.join(
      path.dirname(createRequire(import.meta.url).resolve('bullmq')),
      '../esm/commands/moveStalledJobsToWait-9.lua',
    );
    const written = /failedReason = "([^"]+)"/.exec(readFileSync(script, 'utf8'))?.[1];
    expect(written).toBeDefined();
    expect(decodeJobFailure(written)).toEqual({ code: 'BULLMQ_STALLED_LIMIT', message: written });
  });

  it('give no code to anything else: free text, malformed or foreign JSON, nothing', () => {
    for (const reason of [
      'something about "Great phone"',
      '{"code":"SF_ERR_BAD_JOB"}',
      '{"code":"NOPE","message":"x"}',
      '{not json',
      '[]',
      'null',
      '',
      null,
      undefined,
    ]) {
      expect(decodeJobFailure(reason).code, String(reason)).toBe('OTHER');
    }
  });

  it('toJobError: the error a processor throws carries the encoded reason; only retryable codes are retried', () => {
    const bad = toJobError(
      new SfError('SF_ERR_BAD_JOB', 'not a review', {
        details: { problems: [{ path: 'text', message: 'text is required' }], other: 1 },
      }),
      'SF_ERR_INFERENCE',
    );
    expect(bad).toBeInstanceOf(UnrecoverableError);
    expect(decodeJobFailure(bad.message)).toEqual({
      code: 'SF_ERR_BAD_JOB',
      message: 'not a review',
      problems: [{ path: 'text', message: 'text is required' }],
    });
    const crash = toJobError(new SfError('SF_ERR_THREAD_CRASH', 'thread exited'), 'SF_ERR_INFERENCE');
    expect(crash).not.toBeInstanceOf(UnrecoverableError);
    expect(decodeJobFailure(crash.message)).toEqual({ code: 'SF_ERR_THREAD_CRASH', message: 'thread exited' });
    // Anything not an SfError takes the fallback code.
    expect(decodeJobFailure(toJobError(new Error('ECONNRESET'), 'SF_ERR_REDIS').message)).toEqual({
      code: 'SF_ERR_REDIS',
      message: 'ECONNRESET',
    });
  });
});
