import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.ts';

// Defence in depth: review text is never logged on purpose (test/integration/privacy.test.ts runs
// the real paths); if a review or a job is logged by mistake, its text and title are censored.
describe('logger redaction', () => {
  it('censors text and title wherever a review or a job would put them', () => {
    let out = '';
    const destination = new Writable({
      write: (chunk, _e, cb) => {
        out += String(chunk);
        cb();
      },
    });
    const logger = createLogger({ level: 'trace', format: 'json', destination });
    const review = { id: 'r1', title: 'SECRET-TITLE', text: 'SECRET-TEXT' };
    logger.info(review, 'a review as the log object');
    logger.info({ review }, 'a review under review');
    logger.info({ job: { id: 'r1', data: review } }, 'a job');
    logger.info({ data: review }, 'job data');
    logger.info({ reviews: [review, review] }, 'a list');
    logger.child({ batch: 'b1' }).warn({ item: review }, 'an item');
    expect(out.split('\n').filter(Boolean)).toHaveLength(6);
    expect(out).not.toContain('SECRET');
    expect(out).toContain('[redacted]');
    expect(out).toContain('"id":"r1"'); // ids stay readable
  });
});
