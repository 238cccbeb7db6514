/**
 * MODEL_ROUTES: which model directory scores the reviews of a language. The value is a
 * comma-separated list of `tag:directory` pairs (`de:models/review-sentiment-de,fr:…`); a tag is
 * a BCP 47 primary language subtag (2–3 letters, matched case-insensitively), each at most once.
 * Several tags may share a directory (the model is loaded once).
 */
export interface ModelRoute {
  /** Lower-cased primary language subtag, e.g. `de`. */
  language: string;
  dir: string;
}

const TAG = /^[a-z]{2,3}$/;

export function parseModelRoutes(value: string): { routes: ModelRoute[]; problems: string[] } {
  const routes: ModelRoute[] = [];
  const problems: string[] = [];
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const colon = part.indexOf(':');
    const language = (colon < 0 ? part : part.slice(0, colon)).trim().toLowerCase();
    const dir = colon < 0 ? '' : part.slice(colon + 1).trim();
    if (!TAG.test(language))
      problems.push(`"${part}": the language must be a primary subtag of 2–3 letters (de, fr, es, ...)`);
    else if (dir === '') problems.push(`"${part}": must be tag:directory`);
    else if (routes.some((r) => r.language === language)) problems.push(`"${language}" is routed twice`);
    else routes.push({ language, dir });
  }
  return { routes, problems };
}
