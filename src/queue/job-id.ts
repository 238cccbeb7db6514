/**
 * Review id <-> BullMQ job id. BullMQ refuses custom ids that are integers or contain ":",
 * so the job id is the review id with "%" and ":" percent-escaped, and an integer-looking id
 * prefixed with "%i" (which no escaped id contains). The mapping is injective and reversible,
 * so one review is one job, whatever its id.
 */
export function reviewIdToJobId(reviewId: string): string {
  const escaped = reviewId.replaceAll('%', '%25').replaceAll(':', '%3A');
  return `${Number.parseInt(escaped, 10)}` === escaped ? `%i${escaped}` : escaped;
}

export function jobIdToReviewId(jobId: string): string {
  const body = jobId.startsWith('%i') ? jobId.slice(2) : jobId;
  return body.replaceAll('%3A', ':').replaceAll('%25', '%');
}
