/**
 * Which predicted labels are negative or positive (NEGATIVE_LABELS, POSITIVE_LABELS), and which
 * star ratings expect which: the one definition the storage queries (negative share, latest
 * negatives, rating agreement per product) and the stats service (rating agreement of the fleet)
 * share.
 *
 * Rating agreement: a review whose `rating` is at most RATING_NEGATIVE_MAX (1–2 stars, 0 too)
 * expects a negative label, one of at least RATING_POSITIVE_MIN (4–5 stars) a positive one; a
 * rating in between (3, 2.5, 3.5) expects neither and is not counted. Among the counted ("rated")
 * results, a result agrees when its label is of the expected polarity: a neutral or other label
 * on a rated review disagrees.
 */

export const RATING_NEGATIVE_MAX = 2;
export const RATING_POSITIVE_MIN = 4;

export type Polarity = 'negative' | 'positive';

/** The polarity a star rating expects, or null (no rating, or 2 < rating < 4). */
export function ratingPolarity(rating: number | null | undefined): Polarity | null {
  if (rating === null || rating === undefined || !Number.isFinite(rating)) return null;
  if (rating <= RATING_NEGATIVE_MAX) return 'negative';
  if (rating >= RATING_POSITIVE_MIN) return 'positive';
  return null;
}

/** Lower-cased label lists, as config.labels holds them. */
export interface LabelSets {
  negative: readonly string[];
  positive: readonly string[];
}

/** The default label lists (NEGATIVE_LABELS=negative, POSITIVE_LABELS=positive). */
export const DEFAULT_LABEL_SETS: LabelSets = { negative: ['negative'], positive: ['positive'] };

/** Labels match case-insensitively (`Negative` is `negative`), like lower() in the SQL. */
export function createLabelPolarity(sets: LabelSets) {
  const negative = new Set(sets.negative.map((l) => l.toLowerCase()));
  const positive = new Set(sets.positive.map((l) => l.toLowerCase()));
  return {
    /** The lower-cased negative labels (an SQL `lower(label) = ANY($n)` parameter). */
    negativeLabels: [...negative],
    of(label: string): Polarity | null {
      const l = label.toLowerCase();
      return negative.has(l) ? 'negative' : positive.has(l) ? 'positive' : null;
    },
    isNegative: (label: string) => negative.has(label.toLowerCase()),
  };
}

export type LabelPolarity = ReturnType<typeof createLabelPolarity>;

/** Agreement between predicted labels and star ratings; null when no result was rated. */
export interface RatingAgreement {
  /** Results whose rating expects a polarity (3 stars and no rating excluded). */
  rated: number;
  /** Of those, the ones whose label has the expected polarity. */
  agreeing: number;
  /** agreeing / rated. */
  share: number;
}

/** Counts rated and agreeing results, one (rating, label) at a time. */
export function createAgreementCounter(polarity: LabelPolarity) {
  let rated = 0;
  let agreeing = 0;
  return {
    /** `n` results of this label whose rating expects `expected` (null: not counted). */
    add(label: string, expected: Polarity | null, n = 1): void {
      if (expected === null || n <= 0) return;
      rated += n;
      if (polarity.of(label) === expected) agreeing += n;
    },
    result: (): RatingAgreement | null => (rated === 0 ? null : { rated, agreeing, share: agreeing / rated }),
  };
}
