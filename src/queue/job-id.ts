/**
 * Review id <-> BullMQ job id.
 *
 * A job's hash is the key `<prefix>:<queue>:<job id>`, next to the queue's own keys
 * (`<prefix>:<queue>:active`, `:wait`, `:meta`, `:stalled-check`…), so a job id equal to one of
 * those names would overwrite a queue key. BullMQ also refuses custom ids that are integers or
 * contain ":". The job id is therefore REVIEW_JOB_ID_PREFIX ("%r") followed by the review id with
 * "%" and ":" percent-escaped:
 * - no BullMQ key name starts with "%" (test/unit/job-id.test.ts checks every name BullMQ uses),
 *   so no review id, whatever it is, gives a job key that is also a queue key;
 * - the result never contains ":" and never looks like an integer;
 * - an escaped id holds "%" only as "%25" or "%3A", so the mapping is injective and reversible.
 *
 * Job ids made before the prefix (the escaped id alone, or "%i" + an integer-looking escaped id)
 * never start with "%r", so jobIdToReviewId still decodes them (docs/operating.md, upgrading).
 */
export const REVIEW_JOB_ID_PREFIX = '%r';

/** The "%i" prefix of integer-looking ids before REVIEW_JOB_ID_PREFIX (decoded, never produced). */
const LEGACY_INTEGER_PREFIX = '%i';

function escapeId(id: string): string {
  return id.replaceAll('%', '%25').replaceAll(':', '%3A');
}

function unescapeId(escaped: string): string {
  return escaped.replace(/%3A|%25/g, (match) => (match === '%3A' ? ':' : '%'));
}

export function reviewIdToJobId(reviewId: string): string {
  return `${REVIEW_JOB_ID_PREFIX}${escapeId(reviewId)}`;
}

/** The review id of a job id made by reviewIdToJobId, or by the mapping before its prefix. */
export function jobIdToReviewId(jobId: string): string {
  if (jobId.startsWith(REVIEW_JOB_ID_PREFIX)) return unescapeId(jobId.slice(REVIEW_JOB_ID_PREFIX.length));
  return unescapeId(jobId.startsWith(LEGACY_INTEGER_PREFIX) ? jobId.slice(LEGACY_INTEGER_PREFIX.length) : jobId);
}
