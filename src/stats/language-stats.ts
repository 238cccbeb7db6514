/**
 * Label shares by language over the stats window (`/v1/stats` `model.byLanguage`): from the
 * languages workers with MODEL_ROUTES write with each batch (stats-stream.ts `lang`, `m`). A
 * language is the one a review's model was chosen by (its locale's primary subtag, or the
 * language-ID model's confident guess); `unknown` gathers the reviews without either. Batches of
 * workers without routing carry no language and are not counted here. O(batches): per-entry sums.
 */
import { parseWorkerName } from '../contracts/worker-name.ts';
import type { BatchStatsEntry } from './stats-stream.ts';

/** The language of reviews whose language is not known (no locale, unsure or no identification). */
export const UNKNOWN_LANGUAGE = 'unknown';

export interface LanguageShares {
  /** A primary language subtag (`de`), or `unknown`. */
  language: string;
  count: number;
  /** This language's share of the window's reviews that have a language entry. */
  share: number;
  /** Share of every label seen in the window among this language's reviews (0 when absent). */
  labelShares: Record<string, number>;
  meanConfidence: number;
  /** Reviews of this language per model that scored them (`name@version`). */
  models: Record<string, number>;
}

/** `name@version` (the last `@` starts the version) → its parts, or undefined. */
export function parseModelName(name: string): { model: string; version: string } | undefined {
  const at = name.lastIndexOf('@');
  return at > 0 ? { model: name.slice(0, at), version: name.slice(at + 1) } : undefined;
}

/** Per language over the entries with ts ≥ from, most reviews first (then by tag). */
export function labelSharesByLanguage(entries: readonly BatchStatsEntry[], from: number): LanguageShares[] {
  const languages = new Map<
    string,
    { count: number; confidence: number; labels: Map<string, number>; models: Map<string, number> }
  >();
  let total = 0;
  for (const e of entries) {
    if (e.ts < from || !e.sums.byLanguage) continue;
    const worker = parseWorkerName(e.worker);
    const model = e.model ?? (worker ? `${worker.model}@${worker.version}` : 'unknown');
    for (const g of e.sums.byLanguage) {
      const tag = g.tag ?? UNKNOWN_LANGUAGE;
      let l = languages.get(tag);
      if (!l) languages.set(tag, (l = { count: 0, confidence: 0, labels: new Map(), models: new Map() }));
      l.count += g.count;
      l.confidence += g.confidence;
      l.models.set(model, (l.models.get(model) ?? 0) + g.count);
      g.labelCounts.forEach((n, i) => n > 0 && l.labels.set(e.labels[i]!, (l.labels.get(e.labels[i]!) ?? 0) + n));
      total += g.count;
    }
  }
  const labels = [...new Set([...languages.values()].flatMap((l) => [...l.labels.keys()]))].sort();
  return [...languages.entries()]
    .sort(([a, x], [b, y]) => y.count - x.count || a.localeCompare(b))
    .map(([language, l]) => ({
      language,
      count: l.count,
      share: l.count / total,
      labelShares: Object.fromEntries(labels.map((label) => [label, (l.labels.get(label) ?? 0) / l.count])),
      meanConfidence: l.confidence / l.count,
      models: Object.fromEntries([...l.models].sort(([a], [b]) => a.localeCompare(b))),
    }));
}
