/**
 * Review id <-> BullMQ job id.
 *
 * A job's hash is the key `<prefix>:<queue>:<job id>`, next to the queue's own keys
 * (`<prefix>:<queue>:active`, `:wait`, `:meta`, `:stalled-check`…), so a job id equal to one of
 * those names would overwrite a queue key. BullMQ also refuses custom ids that are integers or
 * contain ":". The job id is therefore REVIEW_JOB_ID_PREFIX ("r~") followed by the review id with
 * "~", ":" and "%" escaped as "~7E", "~3A" and "~25":
 * - no BullMQ key name contains "~" (test/unit/job-id.test.ts checks every name BullMQ uses),
 *   so no review id, whatever it is, gives a job key that is also a queue key;
 * - the result never contains ":" and never looks like an integer;
 * - it never contains "%" either: bull-board's job page decodes the id from its URL twice and
 *   shows a blank page for an id with "%" in it;
 * - an escaped id holds "~" only as "~7E", "~3A" or "~25", so the mapping is injective and reversible.
 *
 * Job ids made before the prefix (the id with "%" and ":" percent-escaped, integer-looking ones
 * after "%i") are decoded by jobIdToReviewId too, unless they start with "r~" (docs/operating.md).
 */
export const REVIEW_JOB_ID_PREFIX = 'r~';

const ESCAPES: Record<string, string> = { '~': '~7E', ':': '~3A', '%': '~25' };
const UNESCAPES: Record<string, string> = { '~7E': '~', '~3A': ':', '~25': '%' };

/** The "%i" prefix of integer-looking ids before REVIEW_JOB_ID_PREFIX (decoded, never produced). */
const LEGACY_INTEGER_PREFIX = '%i';

export function reviewIdToJobId(reviewId: string): string {
  return `${REVIEW_JOB_ID_PREFIX}${reviewId.replace(/[~:%]/g, (c) => ESCAPES[c]!)}`;
}

/**
 * The job id the mapping before REVIEW_JOB_ID_PREFIX gave a review (only to find the jobs queued
 * before an upgrade: review status looks there when the current job id is unknown). It may equal
 * one of BullMQ's own key names (`active`, `meta`…): check that the key is a review job's.
 */
export function legacyReviewJobId(reviewId: string): string {
  const escaped = reviewId.replaceAll('%', '%25').replaceAll(':', '%3A');
  return `${Number.parseInt(escaped, 10)}` === escaped ? `${LEGACY_INTEGER_PREFIX}${escaped}` : escaped;
}

/** The review id of a job id made by reviewIdToJobId, or by the mapping before its prefix. */
export function jobIdToReviewId(jobId: string): string {
  if (jobId.startsWith(REVIEW_JOB_ID_PREFIX))
    return jobId.slice(REVIEW_JOB_ID_PREFIX.length).replace(/~7E|~3A|~25/g, (m) => UNESCAPES[m]!);
  const legacy = jobId.startsWith(LEGACY_INTEGER_PREFIX) ? jobId.slice(LEGACY_INTEGER_PREFIX.length) : jobId;
  return legacy.replace(/%3A|%25/g, (m) => (m === '%3A' ? ':' : '%'));
}
