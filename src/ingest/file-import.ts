import { setTimeout as sleep } from 'node:timers/promises';
import { SfError, isSfError, toSfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import { displayText, DISPLAY_REASON_CHARS } from './display-text.ts';
import { openReviewFile, recordId, type ImportFormat } from './review-file-reader.ts';
import type { EnqueueOutcome } from '../contracts/review-job.ts';
import type { Review, ReviewLimits } from '../contracts/review-schema.ts';
import { createReviewValidator, type ReviewValidator } from './review-validation.ts';

export interface ImportProgress {
  bytesRead: number;
  totalBytes: number;
  accepted: number;
  rejected: number;
  duplicates: number;
}

/**
 * A record of the file that was not imported, and why: the line, the field and the rule, never
 * the text. `id` and field names are shown escaped and cut when not short printable text
 * (displayText), so a report never echoes binary input to a terminal.
 */
export interface ImportRejection {
  line: number;
  id?: string;
  reasons: string[];
}

/** Import pauses while the reviews backlog is at or above the high-water mark, as HTTP answers 503. */
export interface BacklogOptions {
  /** Waiting reviews at or above which the next chunk waits (BACKLOG_HIGH_WATER). */
  highWater: number;
  /** Longest wait for the backlog to fall below the mark, then SF_ERR_BACKPRESSURE; 0: fail at once. Default 10 min. */
  maxWaitMs?: number;
  /** How often the backlog is read while waiting. Default 1 s. */
  pollMs?: number;
}

/** Reported when a wait starts, after each reading while it lasts, and when it ends. */
export interface BacklogWait {
  backlog: number;
  highWater: number;
  waitedMs: number;
  /** The backlog fell below the mark: the import goes on. */
  resumed: boolean;
}

export interface ImportSummary {
  file: string;
  format: ImportFormat;
  /** Records read (blank lines are not records). */
  records: number;
  /** Reviews enqueued by this import. */
  accepted: number;
  /** Reviews not enqueued because their id came earlier in the file or is already in the queue. */
  duplicates: number;
  /** Records not enqueued because they are not valid reviews. */
  rejected: number;
  /** The first `maxListed` rejections, in file order; `rejected` counts them all. */
  rejections: ImportRejection[];
  /** The first `maxListed` duplicate ids (as displayText shows them): in-file repeats as read, ids already queued as each chunk is enqueued. */
  duplicateIds: string[];
  /** Time spent waiting for the backlog to fall below the high-water mark. */
  backlogWaitMs: number;
  bytesRead: number;
  totalBytes: number;
  durationMs: number;
}

export interface ImportOptions {
  file: string;
  /** Overrides detection by extension. */
  format?: ImportFormat | undefined;
  /**
   * Where reviews go (a ReviewProducer, src/queue/review-producer.ts): `enqueueMany` validates
   * and enqueues; `backlog` (waiting reviews) is needed with the `backlog` option.
   */
  producer: {
    enqueueMany(input: readonly unknown[]): Promise<EnqueueOutcome>;
    backlog?(maxAgeMs?: number): Promise<number>;
  };
  /** The review validator; built from `limits` when not given. One of the two is required. */
  validator?: ReviewValidator;
  limits?: ReviewLimits;
  /** Valid reviews per `enqueueMany` call. */
  chunkSize: number;
  onProgress?: (progress: ImportProgress) => void;
  /** Least time between two onProgress calls while reading (one always follows each chunk). Default 100 ms. */
  progressIntervalMs?: number;
  logger: Logger;
  /** Aborting stops the import after the chunk in flight (SF_ERR_SHUTDOWN, with the summary so far). */
  signal?: AbortSignal;
  /** How many rejections and duplicate ids the summary lists. Default 100. */
  maxListed?: number;
  /** Wait before each chunk while the backlog is over its high-water mark. None: never wait. */
  backlog?: BacklogOptions;
  onBacklogWait?: (wait: BacklogWait) => void;
}

const DEFAULT_BACKLOG_WAIT_MS = 10 * 60_000;
const DEFAULT_BACKLOG_POLL_MS = 1000;

/** A reason as a report may show it: printable, at most DISPLAY_REASON_CHARS. */
const shownReason = (reason: string) => displayText(reason, DISPLAY_REASON_CHARS);

/** The file is malformed from some line on (CSV): every record before that line is imported. */
function isMalformedFile(err: unknown): boolean {
  return isSfError(err, 'SF_ERR_IMPORT') && typeof err.details?.line === 'number';
}

/** The summary an aborted import carried in its error, if any. */
export function importSummaryOf(err: unknown): ImportSummary | undefined {
  return isSfError(err) ? (err.details?.summary as ImportSummary | undefined) : undefined;
}

function withSummary(sf: SfError, err: unknown, summary: ImportSummary): SfError {
  return new SfError(sf.code, sf.message, { cause: err, retryable: sf.retryable, details: { ...sf.details, summary } });
}

/**
 * Imports a JSONL or CSV file of reviews. Each record is validated on its own: an invalid one is
 * rejected with its reasons and the rest are imported (unlike the HTTP API, which is
 * all-or-nothing per request). An id seen earlier in the file is a duplicate; valid reviews are
 * enqueued `chunkSize` at a time, and the producer reports ids already queued as duplicates.
 * With `backlog`, each chunk first waits while the queue's backlog is at or above the high-water
 * mark (at most `maxWaitMs`, then SF_ERR_BACKPRESSURE).
 *
 * A missing, unreadable or non-regular file throws SF_ERR_IMPORT before anything is enqueued. A
 * CSV file malformed from some line on (a quote error: see csv-records.ts) throws SF_ERR_IMPORT
 * with `details.line` after every valid record before that line is enqueued, and nothing from it
 * on. Any failure (Redis: SF_ERR_REDIS; the file: SF_ERR_IMPORT; the backlog: SF_ERR_BACKPRESSURE;
 * abort: SF_ERR_SHUTDOWN) throws an SfError whose `details.summary` is the summary so far (see
 * importSummaryOf). Reviews of the chunk in flight may or may not be queued then; importing again
 * is safe, they are reported as duplicates.
 */
export async function importReviewFile(options: ImportOptions): Promise<ImportSummary> {
  const { producer, logger, signal } = options;
  if (!Number.isInteger(options.chunkSize) || options.chunkSize < 1)
    throw new RangeError('chunkSize must be a whole number >= 1');
  const validator = options.validator ?? (options.limits ? createReviewValidator(options.limits) : undefined);
  if (!validator) throw new TypeError('importReviewFile needs a validator or limits');
  if (options.backlog && !producer.backlog) throw new TypeError('the backlog option needs a producer with backlog()');
  const maxListed = options.maxListed ?? 100;
  const progressIntervalMs = options.progressIntervalMs ?? 100;
  const startedAt = Date.now();

  const reader = await openReviewFile(options.file, { format: options.format });
  const summary: ImportSummary = {
    file: options.file,
    format: reader.format,
    records: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    rejections: [],
    duplicateIds: [],
    backlogWaitMs: 0,
    bytesRead: 0,
    totalBytes: reader.totalBytes,
    durationMs: 0,
  };
  const log = logger.child({ file: options.file, format: reader.format });
  log.info({ totalBytes: reader.totalBytes, chunkSize: options.chunkSize }, 'import started');

  let lastProgressAt = 0;
  const report = (force: boolean) => {
    summary.bytesRead = reader.bytesRead;
    if (!options.onProgress) return;
    const now = Date.now();
    if (!force && now - lastProgressAt < progressIntervalMs) return;
    lastProgressAt = now;
    const { bytesRead, totalBytes, accepted, rejected, duplicates } = summary;
    options.onProgress({ bytesRead, totalBytes, accepted, rejected, duplicates });
  };
  const reject = (rejection: ImportRejection) => {
    summary.rejected += 1;
    const shown = { ...rejection, reasons: rejection.reasons.map(shownReason) };
    if (summary.rejections.length < maxListed) summary.rejections.push(shown);
    log.debug({ line: shown.line, id: shown.id, reasons: shown.reasons }, 'record rejected');
  };
  const duplicate = (id: string) => {
    summary.duplicates += 1;
    if (summary.duplicateIds.length < maxListed) summary.duplicateIds.push(displayText(id));
  };

  const backlogOf = async (maxAgeMs?: number): Promise<number> => {
    try {
      return await producer.backlog!(maxAgeMs);
    } catch (err) {
      throw toSfError(err, 'SF_ERR_REDIS', `cannot read the queue's backlog: ${(err as Error).message}`);
    }
  };
  /** Resolves once the backlog is below the high-water mark; SF_ERR_BACKPRESSURE after maxWaitMs. */
  const waitForRoom = async () => {
    const limit = options.backlog;
    if (!limit) return;
    let backlog = await backlogOf(0); // fresh: one read per chunk, so a chunk never lands on a stale count
    if (backlog < limit.highWater) return;
    const maxWaitMs = limit.maxWaitMs ?? DEFAULT_BACKLOG_WAIT_MS;
    const pollMs = Math.max(1, limit.pollMs ?? DEFAULT_BACKLOG_POLL_MS);
    const waitStart = Date.now();
    log.info(
      { backlog, highWater: limit.highWater, maxWaitMs },
      'backlog over its high-water mark: waiting for the workers',
    );
    for (;;) {
      const waitedMs = Date.now() - waitStart;
      options.onBacklogWait?.({ backlog, highWater: limit.highWater, waitedMs, resumed: false });
      if (waitedMs >= maxWaitMs) {
        summary.backlogWaitMs += waitedMs;
        throw new SfError(
          'SF_ERR_BACKPRESSURE',
          `the backlog (${backlog} waiting reviews) stayed at or above its high-water mark (${limit.highWater}) for ${Math.round(waitedMs / 1000)} s: are workers running?`,
          { details: { backlog, highWater: limit.highWater, waitedMs } },
        );
      }
      try {
        await sleep(Math.min(pollMs, maxWaitMs - waitedMs), undefined, signal ? { signal } : {});
      } catch (err) {
        summary.backlogWaitMs += Date.now() - waitStart;
        throw new SfError('SF_ERR_SHUTDOWN', 'import interrupted', { cause: signal?.reason ?? err });
      }
      backlog = await backlogOf(0);
      if (backlog < limit.highWater) {
        const waited = Date.now() - waitStart;
        summary.backlogWaitMs += waited;
        options.onBacklogWait?.({ backlog, highWater: limit.highWater, waitedMs: waited, resumed: true });
        log.info(
          { backlog, highWater: limit.highWater, waitedMs: waited },
          'backlog below its high-water mark: import goes on',
        );
        return;
      }
    }
  };

  const seen = new Set<string>();
  let chunk: Review[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    await waitForRoom();
    const reviews = chunk;
    chunk = [];
    const outcome = await producer.enqueueMany(reviews);
    summary.accepted += outcome.accepted.length;
    for (const id of outcome.duplicates) duplicate(id);
    log.debug({ accepted: outcome.accepted.length, duplicates: outcome.duplicates.length }, 'chunk enqueued');
    report(true);
  };

  try {
    try {
      for await (const record of reader) {
        if (signal?.aborted) throw new SfError('SF_ERR_SHUTDOWN', 'import interrupted', { cause: signal.reason });
        summary.records += 1;
        if ('error' in record) {
          reject({ line: record.line, ...(record.id === undefined ? {} : { id: record.id }), reasons: [record.error] });
        } else {
          const checked = validator.check(record.value);
          if (!checked.ok) {
            const id = recordId(record.value);
            reject({
              line: record.line,
              ...(id === undefined ? {} : { id }),
              reasons: checked.problems.map((p) => `${p.path}: ${p.message}`),
            });
          } else if (seen.has(checked.review.id)) {
            duplicate(checked.review.id);
          } else {
            seen.add(checked.review.id);
            chunk.push(checked.review);
            if (chunk.length >= options.chunkSize) await flush();
          }
        }
        report(false);
      }
    } catch (err) {
      // Malformed from a line on: the records before it are sound, and are imported.
      if (isMalformedFile(err)) await flush();
      throw err;
    }
    await flush();
  } catch (err) {
    summary.durationMs = Date.now() - startedAt;
    summary.bytesRead = reader.bytesRead;
    await reader.close();
    const sf = toSfError(err, 'SF_ERR_IMPORT');
    // A refusal of the file, the backlog or an interrupt is the caller's to report (the CLI prints
    // it): logged at info, in one line. Anything else at warn, with its error.
    const counts = { accepted: summary.accepted, duplicates: summary.duplicates, rejected: summary.rejected };
    const told =
      isSfError(err) &&
      (err.code === 'SF_ERR_IMPORT' || err.code === 'SF_ERR_BACKPRESSURE' || err.code === 'SF_ERR_SHUTDOWN');
    if (told) log.info({ code: sf.code, reason: sf.message, ...counts }, 'import aborted');
    else log.warn({ err: sf, ...counts }, 'import aborted');
    throw withSummary(sf, err, summary);
  }
  summary.durationMs = Date.now() - startedAt;
  report(true);
  log.info(
    {
      records: summary.records,
      accepted: summary.accepted,
      duplicates: summary.duplicates,
      rejected: summary.rejected,
      backlogWaitMs: summary.backlogWaitMs,
      durationMs: summary.durationMs,
    },
    'import finished',
  );
  return summary;
}
