/**
 * What the model reads for a review: the title and the text joined into one sequence,
 * "<title>. <text>" (no extra period when the title already ends in . ! ? or …). Titles carry
 * strong sentiment, and one sequence suits single-sentence classifiers (SST-2 style) and
 * models trained by `sentiment-fleet train`, which join titles the same way.
 */
export function reviewModelText(review: { title?: string | undefined; text: string }): string {
  const title = review.title?.trim();
  if (!title) return review.text;
  return /[.!?…]$/u.test(title) ? `${title} ${review.text}` : `${title}. ${review.text}`;
}
