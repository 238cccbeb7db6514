/**
 * Probabilities from one row of logits divided by the model's calibration temperature (1 when it
 * has none): softmax, or an independent sigmoid per label for multi-label models.
 */
export function probabilities(
  logits: Float32Array,
  offset: number,
  count: number,
  multiLabel: boolean,
  temperature = 1,
): number[] {
  const out = new Array<number>(count);
  if (multiLabel) {
    for (let i = 0; i < count; i++) out[i] = 1 / (1 + Math.exp(-logits[offset + i]! / temperature));
    return out;
  }
  let max = -Infinity;
  for (let i = 0; i < count; i++) max = Math.max(max, logits[offset + i]! / temperature);
  let sum = 0;
  for (let i = 0; i < count; i++) {
    out[i] = Math.exp(logits[offset + i]! / temperature - max);
    sum += out[i]!;
  }
  for (let i = 0; i < count; i++) out[i] = out[i]! / sum;
  return out;
}

/** The top label, its probability, and every label's probability rounded for the wire. */
export function labelScores(
  probs: readonly number[],
  labels: readonly string[],
): { label: string; score: number; scores: Record<string, number> } {
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
  const scores: Record<string, number> = {};
  labels.forEach((label, i) => (scores[label] = round(probs[i]!)));
  return { label: labels[best]!, score: round(probs[best]!), scores };
}

function round(p: number): number {
  return Math.round(p * 1e6) / 1e6;
}
