import { SfError, isSfError, toSfError } from '../errors/sf-error.ts';
import type { Logger } from '../logging/logger.ts';
import { openReviewFile, recordId, type ImportFormat } from './review-file-reader.ts';
import type { ReviewProducer } from './review-producer.ts';
import { createReviewValidator, type Review, type ReviewLimits, type ReviewValidator } from './review-schema.ts';

export interface ImportProgress {
  bytesRead: number;
  totalBytes: number;
  accepted: number;
  rejected: number;
  duplicates: number;
}

/** A record of the file that was not imported, and why (field paths and messages, never text). */
export interface ImportRejection {
  line: number;
  id?: string;
  reasons: string[];
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
  /** The first `maxListed` duplicate ids: in-file repeats as read, ids already queued as each chunk is enqueued. */
  duplicateIds: string[];
  bytesRead: number;
  totalBytes: number;
  durationMs: number;
}

export interface ImportOptions {
  file: string;
  /** Overrides detection by extension. */
  format?: ImportFormat | undefined;
  producer: Pick<ReviewProducer, 'enqueueMany'>;
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
 *
 * A missing or unreadable file throws SF_ERR_IMPORT before anything is enqueued. A failure later
 * (Redis: SF_ERR_REDIS; the file: SF_ERR_IMPORT; abort: SF_ERR_SHUTDOWN) throws an SfError whose
 * `details.summary` is the summary so far (see importSummaryOf). Reviews of the chunk in flight
 * may or may not be queued then; importing again is safe, they are reported as duplicates.
 */
export async function importReviewFile(options: ImportOptions): Promise<ImportSummary> {
  const { producer, logger, signal } = options;
  if (!Number.isInteger(options.chunkSize) || options.chunkSize < 1) throw new RangeError('chunkSize must be a whole number >= 1');
  const validator = options.validator ?? (options.limits ? createReviewValidator(options.limits) : undefined);
  if (!validator) throw new TypeError('importReviewFile needs a validator or limits');
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
    if (summary.rejections.length < maxListed) summary.rejections.push(rejection);
    log.debug({ line: rejection.line, id: rejection.id, reasons: rejection.reasons }, 'record rejected');
  };
  const duplicate = (id: string) => {
    summary.duplicates += 1;
    if (summary.duplicateIds.length < maxListed) summary.duplicateIds.push(id);
  };

  const seen = new Set<string>();
  let chunk: Review[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const reviews = chunk;
    chunk = [];
    const outcome = await producer.enqueueMany(reviews);
    summary.accepted += outcome.accepted.length;
    for (const id of outcome.duplicates) duplicate(id);
    log.debug({ accepted: outcome.accepted.length, duplicates: outcome.duplicates.length }, 'chunk enqueued');
    report(true);
  };

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
          reject({ line: record.line, ...(id === undefined ? {} : { id }), reasons: checked.problems.map((p) => `${p.path}: ${p.message}`) });
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
    await flush();
  } catch (err) {
    summary.durationMs = Date.now() - startedAt;
    summary.bytesRead = reader.bytesRead;
    await reader.close();
    const sf = toSfError(err, 'SF_ERR_IMPORT');
    log.warn({ err: sf, accepted: summary.accepted, duplicates: summary.duplicates, rejected: summary.rejected }, 'import aborted');
    throw withSummary(sf, err, summary);
  }
  summary.durationMs = Date.now() - startedAt;
  report(true);
  log.info(
    { records: summary.records, accepted: summary.accepted, duplicates: summary.duplicates, rejected: summary.rejected, durationMs: summary.durationMs },
    'import finished',
  );
  return summary;
}
