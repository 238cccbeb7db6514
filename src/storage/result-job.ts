import type { FailureProblem } from '../contracts/job-failure.ts';
import { RESULT_BATCH_JOB_NAME, type SentimentResult } from '../contracts/result-contract.ts';
import { resultBatchSchema, sentimentResultSchema } from '../contracts/result-schema.ts';
import { isSfError } from '../errors/sf-error.ts';

/**
 * The result sink's pure part: what a result job holds, and what the job's end is once its
 * results have been stored or refused. result-sink.ts does the I/O.
 */

/** Problems of a malformed result (zod issues), paths relative to the job's data. */
export function problemsOf(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  at = '',
): FailureProblem[] {
  return issues.map((i) => ({
    path: [at, ...i.path.map(String)].filter(Boolean).join('.') || '(root)',
    message: i.message,
  }));
}

/** A result job's well-formed results (`at`: where in the job) and the problems of the others. */
export interface ResultJobContent {
  total: number;
  good: { result: SentimentResult; at: string }[];
  problems: FailureProblem[];
}

export type ReadResultJob =
  { ok: true; content: ResultJobContent } | { ok: false; message: string; problems: FailureProblem[] };

/**
 * Reads a result job (`result-batch`, ResultBatch): a job of another name or a malformed envelope
 * is refused whole; a malformed result is listed among the problems and the others go on.
 */
export function readResultJob(job: { name: string; data: unknown }): ReadResultJob {
  if (job.name !== RESULT_BATCH_JOB_NAME) {
    return {
      ok: false,
      message: `unknown result job name ${JSON.stringify(job.name.slice(0, 100))}: the sink takes ${JSON.stringify(RESULT_BATCH_JOB_NAME)} jobs`,
      problems: [],
    };
  }
  const envelope = resultBatchSchema.safeParse(job.data);
  if (!envelope.success)
    return { ok: false, message: 'the result batch is malformed', problems: problemsOf(envelope.error.issues) };
  const items = envelope.data.results;
  const content: ResultJobContent = { total: items.length, good: [], problems: [] };
  items.forEach((item, i) => {
    const parsed = sentimentResultSchema.safeParse(item);
    if (parsed.success) content.good.push({ result: item as SentimentResult, at: `results.${i}` });
    else content.problems.push(...problemsOf(parsed.error.issues, `results.${i}`));
  });
  return { ok: true, content };
}

/** How a result job ends. */
export type ResultJobEnd =
  | { kind: 'done' }
  /** The database is down: back to the queue without spending an attempt. */
  | { kind: 'requeue' }
  /** A result failed for a retryable reason: the whole job is retried (storing is an upsert). */
  | { kind: 'retry'; error: unknown }
  /** Malformed or refused results: the job fails for good, naming them; the others are stored. */
  | { kind: 'refused'; message: string; problems: FailureProblem[] };

const isUnavailable = (err: unknown): boolean => isSfError(err, 'SF_ERR_STORAGE') && err.details?.unavailable === true;

/** The end of a result job, from its content and how storing each good result settled (in order). */
export function resultJobEnd(
  content: ResultJobContent,
  settled: readonly PromiseSettledResult<unknown>[],
): ResultJobEnd {
  const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  if (errors.some(isUnavailable)) return { kind: 'requeue' };
  const retryable = errors.find((e) => !isSfError(e) || e.retryable);
  if (retryable !== undefined) return { kind: 'retry', error: retryable };
  const problems = [...content.problems];
  settled.forEach(
    (s, k) =>
      s.status === 'rejected' && problems.push({ path: content.good[k]!.at, message: (s.reason as Error).message }),
  );
  const failed = content.total - content.good.length + errors.length;
  if (failed === 0) return { kind: 'done' };
  return {
    kind: 'refused',
    message: `${failed} of the job's ${content.total} result(s) malformed or refused by the database; the others are stored`,
    problems,
  };
}
