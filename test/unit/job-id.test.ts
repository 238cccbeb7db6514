import { Job, QueueKeys } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { seededRandom as prng } from '../../src/training/seeded-random.ts';
import { REVIEW_JOB_ID_PREFIX, jobIdToReviewId, reviewIdToJobId } from '../../src/contracts/job-id.ts';
import { GET_KEYS_NAMES, KEY_FAMILIES, KNOWN_KEY_NAMES, keyNamesInBullmqSources } from '../helpers/bullmq-keys.ts';

/** The mapping before REVIEW_JOB_ID_PREFIX, to check that its job ids still decode. */
function legacyReviewIdToJobId(reviewId: string): string {
  const escaped = reviewId.replaceAll('%', '%25').replaceAll(':', '%3A');
  return `${Number.parseInt(escaped, 10)}` === escaped ? `%i${escaped}` : escaped;
}

/** Pieces chosen to hit the escaping, prefix and integer edge cases and BullMQ's key names, combined at random. */
const PIECES = [
  '%',
  ':',
  '~',
  '%25',
  '%3A',
  '~3A',
  '~7E',
  '~25',
  '%i',
  'r~',
  '~r',
  'i',
  'r',
  '3A',
  '25',
  '0',
  '7',
  '42',
  '-',
  '+',
  ' ',
  'a',
  'Z',
  'é',
  '日本',
  '😀',
  '\u0000',
  '.',
  'e',
  'NaN',
  ...KNOWN_KEY_NAMES,
];

const FIXED_IDS = [
  '42',
  '-7',
  '007',
  '0',
  '-0',
  '+7',
  '1e3',
  ' 42',
  '42 ',
  '12345678901234567890',
  'NaN',
  'Infinity',
  '%i5',
  '%i',
  '%',
  '%%',
  '%25',
  '%3A',
  '%253A',
  ':',
  '::',
  'a:b:c',
  'order:1234',
  '%i42',
  '%i-7',
  'r~',
  'r~active',
  'r~42',
  '~',
  '~~',
  '~7E',
  'r~~3A',
  'r',
  'rev-1',
  'ünïcødé',
  '日本語のレビュー',
  '😀👍',
  'a%3Ab',
  '%2',
  '%3',
  '',
  // Every BullMQ key name as a review id, alone and as the start of a family or sub-key.
  ...KNOWN_KEY_NAMES,
  ...[...KNOWN_KEY_NAMES].flatMap((name) => [
    `${name}:x`,
    `${name}:1:lock`,
    `${name}:logs`,
    `r~${name}`,
    `%i${name}`,
    `~${name}`,
  ]),
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

const IDS = generatedIds(20_000);

function isIntegerLike(x: string): boolean {
  return String(Number.parseInt(x, 10)) === x;
}

describe('review id <-> job id', () => {
  it('prefixes every id with r~ and escapes "~", ":" and "%"', () => {
    expect(REVIEW_JOB_ID_PREFIX).toBe('r~');
    expect(reviewIdToJobId('42')).toBe('r~42');
    expect(reviewIdToJobId('-7')).toBe('r~-7');
    expect(reviewIdToJobId('rev-1')).toBe('r~rev-1');
    expect(reviewIdToJobId('active')).toBe('r~active');
    expect(reviewIdToJobId('order:1234')).toBe('r~order~3A1234');
    expect(reviewIdToJobId('%i5')).toBe('r~~25i5');
    expect(reviewIdToJobId('r~x')).toBe('r~r~7Ex');
    expect(reviewIdToJobId('100%')).toBe('r~100~25');
  });

  it('round-trips every generated id', () => {
    for (const id of IDS) expect(jobIdToReviewId(reviewIdToJobId(id)), JSON.stringify(id)).toBe(id);
  });

  it('still decodes job ids made before the r~ prefix (queued before an upgrade)', () => {
    expect(jobIdToReviewId('rev-1')).toBe('rev-1');
    expect(jobIdToReviewId('%i42')).toBe('42');
    expect(jobIdToReviewId('order%3A1234')).toBe('order:1234');
    expect(jobIdToReviewId('%25i5')).toBe('%i5');
    for (const id of IDS) {
      const legacy = legacyReviewIdToJobId(id);
      // A legacy id starting with the new prefix is read as a new one (documented in docs/operating.md).
      if (legacy.startsWith(REVIEW_JOB_ID_PREFIX)) continue;
      expect(jobIdToReviewId(legacy), JSON.stringify(id)).toBe(id);
    }
  });

  it('is injective: distinct review ids give distinct job ids', () => {
    const jobIds = new Set(IDS.map(reviewIdToJobId));
    expect(IDS.length).toBeGreaterThanOrEqual(20_000);
    expect(jobIds.size).toBe(IDS.length);
  });

  it('never yields a job id that contains ":" or "%" or looks like an integer', () => {
    for (const id of IDS) {
      const jobId = reviewIdToJobId(id);
      expect(jobId.includes(':'), JSON.stringify(id)).toBe(false);
      expect(jobId.includes('%'), JSON.stringify(id)).toBe(false); // bull-board's job page decodes ids twice
      expect(isIntegerLike(jobId), JSON.stringify(id)).toBe(false);
    }
  });

  it('the generated set really contains integer-like ids, ids with ":" and "%", and key names', () => {
    expect(IDS.filter(isIntegerLike).length).toBeGreaterThan(100);
    expect(IDS.filter((id) => id.includes(':')).length).toBeGreaterThan(100);
    expect(IDS.filter((id) => id.includes('%')).length).toBeGreaterThan(100);
    expect(IDS.filter((id) => id.includes('~')).length).toBeGreaterThan(100);
    expect(IDS.filter((id) => id.startsWith('r~')).length).toBeGreaterThan(100);
    for (const name of KNOWN_KEY_NAMES) expect(IDS).toContain(name);
  });

  it('is stable: the same review id always gives the same job id', () => {
    for (const id of IDS.slice(0, 200)) expect(reviewIdToJobId(id)).toBe(reviewIdToJobId(id));
  });
});

describe('job keys never collide with the queue keys of BullMQ', () => {
  const keys = new QueueKeys('sf');
  const queueKeys = new Set([
    ...Object.values(keys.getKeys('reviews')),
    ...[...KNOWN_KEY_NAMES].map((name) => keys.toKey('reviews', name)),
  ]);
  const familyPrefixes = KEY_FAMILIES.map((family) => keys.toKey('reviews', family));

  it("knows the names of getKeys, the queue's own list (it grows when BullMQ adds a key)", () => {
    expect(GET_KEYS_NAMES).toEqual(
      expect.arrayContaining([
        '',
        'active',
        'wait',
        'waiting-children',
        'paused',
        'id',
        'delayed',
        'prioritized',
        'stalled-check',
        'completed',
        'failed',
        'stalled',
        'repeat',
        'limiter',
        'meta',
        'events',
        'pc',
        'marker',
        'de',
      ]),
    );
  });

  it('no BullMQ key name contains "~", which every job id holds', () => {
    for (const name of KNOWN_KEY_NAMES) expect(name.includes('~'), name).toBe(false);
    for (const id of IDS) expect(reviewIdToJobId(id).startsWith('r~'), JSON.stringify(id)).toBe(true);
  });

  it('every key name in the installed BullMQ sources is known here (fails when an upgrade adds one)', () => {
    const inSources = keyNamesInBullmqSources();
    expect(inSources.size).toBeGreaterThan(20); // the scan still finds BullMQ's names
    for (const name of GET_KEYS_NAMES.filter((n) => n !== ''))
      expect(inSources.has(name), `${name} not found in the sources`).toBe(true);
    const unknown = [...inSources]
      .filter(([name]) => !KNOWN_KEY_NAMES.has(name))
      .map(([name, file]) => `${JSON.stringify(name)} (${file})`);
    expect(unknown, 'new BullMQ key names: add them to OTHER_KEY_NAMES or KEY_FAMILIES').toEqual([]);
  });

  it('no job key equals a queue key or starts a key family, for key names and 20,000 other ids', () => {
    for (const id of IDS) {
      const jobKey = keys.toKey('reviews', reviewIdToJobId(id));
      expect(queueKeys.has(jobKey), JSON.stringify(id)).toBe(false);
      for (const prefix of familyPrefixes) expect(jobKey.startsWith(prefix), JSON.stringify(id)).toBe(false);
    }
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
