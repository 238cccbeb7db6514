import { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { seededRandom as prng } from '../../src/training/seeded-random.ts';
import { jobIdToReviewId, reviewIdToJobId } from '../../src/queue/job-id.ts';


/** Pieces chosen to hit the escaping and integer edge cases, combined at random. */
const PIECES = ['%', ':', '%25', '%3A', '%3a', '%i', 'i', '3A', '25', '0', '7', '42', '-', '+', ' ', 'a', 'Z', 'é', '日本', '😀', '\u0000', '.', 'e', 'NaN'];

const FIXED_IDS = [
  '42', '-7', '007', '0', '-0', '+7', '1e3', ' 42', '42 ', '12345678901234567890', 'NaN', 'Infinity',
  '%i5', '%i', '%', '%%', '%25', '%3A', '%253A', ':', '::', 'a:b:c', 'order:1234', '%i42', '%i-7',
  'rev-1', 'ünïcødé', '日本語のレビュー', '😀👍', 'a%3Ab', '%2', '%3', '',
];

function generatedIds(count: number, seed = 1): string[] {
  const random = prng(seed);
  const ids = new Set<string>(FIXED_IDS);
  while (ids.size < count) {
    const n = 1 + Math.floor(random() * 6);
    let id = '';
    for (let i = 0; i < n; i++) id += PIECES[Math.floor(random() * PIECES.length)];
    ids.add(id);
    // Plain integers of every shape, too.
    ids.add(String(Math.floor(random() * 2_000_000) - 1_000_000));
  }
  return [...ids];
}

const IDS = generatedIds(5000);

function isIntegerLike(x: string): boolean {
  return String(Number.parseInt(x, 10)) === x;
}

describe('review id <-> job id', () => {
  it('maps integer-like ids with the %i prefix and leaves plain ids alone', () => {
    expect(reviewIdToJobId('42')).toBe('%i42');
    expect(reviewIdToJobId('-7')).toBe('%i-7');
    expect(reviewIdToJobId('007')).toBe('007');
    expect(reviewIdToJobId('rev-1')).toBe('rev-1');
    expect(reviewIdToJobId('order:1234')).toBe('order%3A1234');
    expect(reviewIdToJobId('%i5')).toBe('%25i5');
    expect(reviewIdToJobId('100%')).toBe('100%25');
  });

  it('round-trips every generated id', () => {
    for (const id of IDS) expect(jobIdToReviewId(reviewIdToJobId(id)), JSON.stringify(id)).toBe(id);
  });

  it('is injective: distinct review ids give distinct job ids', () => {
    const jobIds = new Set(IDS.map(reviewIdToJobId));
    expect(IDS.length).toBeGreaterThanOrEqual(5000);
    expect(jobIds.size).toBe(IDS.length);
  });

  it('never yields a job id that contains ":" or looks like an integer', () => {
    for (const id of IDS) {
      const jobId = reviewIdToJobId(id);
      expect(jobId.includes(':'), JSON.stringify(id)).toBe(false);
      expect(isIntegerLike(jobId), JSON.stringify(id)).toBe(false);
    }
  });

  it('the generated set really contains integer-like ids and ids with ":" and "%"', () => {
    expect(IDS.filter(isIntegerLike).length).toBeGreaterThan(100);
    expect(IDS.filter((id) => id.includes(':')).length).toBeGreaterThan(100);
    expect(IDS.filter((id) => id.includes('%')).length).toBeGreaterThan(100);
  });

  it('is stable: the same review id always gives the same job id', () => {
    for (const id of IDS.slice(0, 200)) expect(reviewIdToJobId(id)).toBe(reviewIdToJobId(id));
  });
});

/** Exposes BullMQ's own job-option validation (the check Queue.add runs before talking to Redis). */
class ProbeJob extends Job {
  check(): void {
    this.validateOptions(this.asJSON());
  }
}

const queueLike = {
  name: 'reviews',
  qualifiedName: 'sf:reviews',
  toKey: (type: string) => `sf:reviews:${type}`,
  backend: undefined,
} as unknown as ConstructorParameters<typeof Job>[0];

function bullmqAccepts(jobId: string): boolean {
  try {
    new ProbeJob(queueLike, 'n', {}, { jobId }, jobId).check();
    return true;
  } catch {
    return false;
  }
}

describe('BullMQ custom job id rules (no Redis)', () => {
  it('the probe reproduces BullMQ rejections of raw review ids', () => {
    expect(bullmqAccepts('42')).toBe(false);
    expect(bullmqAccepts('-7')).toBe(false);
    expect(bullmqAccepts('a:b')).toBe(false);
    expect(bullmqAccepts('rev-1')).toBe(true);
  });

  it('accepts every mapped job id', () => {
    for (const id of IDS) {
      if (id === '') continue; // an empty jobId means "no custom id" to BullMQ; reviews require a non-empty id
      expect(bullmqAccepts(reviewIdToJobId(id)), JSON.stringify(id)).toBe(true);
    }
  });
});
