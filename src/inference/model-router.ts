/**
 * Picks the model that scores a review (MODEL_ROUTES): the model of the language tag's primary
 * subtag when the review has a `locale` (`de-AT` → `de`), else of the language the language-ID
 * model finds with at least `minConfidence`; every other review goes to the default model
 * (MODEL_DIR). Pure and synchronous: a routing decision costs one language-ID scoring (tens of
 * microseconds) in the worker's main thread, only for reviews without `locale`.
 */
import type { ModelRoute } from '../config/model-routes.ts';
import type { ResultLanguage } from '../contracts/result-contract.ts';
import type { LanguageGuess } from './language-id.ts';

/** The key of the default model in a RouteDecision and in the inference pool's models. */
export const DEFAULT_MODEL_KEY = 'default';

export interface RouteDecision {
  /** DEFAULT_MODEL_KEY, or the directory of the route that matched (MODEL_ROUTES). */
  model: string;
  /** The language the model was chosen by, as the result carries it. */
  language: ResultLanguage;
}

export interface ModelRouterOptions {
  routes: readonly ModelRoute[];
  /** Identifies the language of a review without locale; absent: such reviews get the default model. */
  identify?: ((text: string) => LanguageGuess) | undefined;
  /** A guess under this confidence is not used (LANGUAGE_ID_MIN_CONFIDENCE). */
  minConfidence: number;
}

/** The lower-cased primary subtag of a language tag (`pt-BR` → `pt`, `de_CH` → `de`). */
export function primarySubtag(locale: string): string {
  return locale.split(/[-_]/, 1)[0]!.toLowerCase();
}

/** Rounded for the result (4 decimals, like explanation weights). */
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

export function createModelRouter(options: ModelRouterOptions) {
  const byLanguage = new Map(options.routes.map((r) => [r.language, r.dir]));
  const modelOf = (tag: string | null) => (tag !== null ? byLanguage.get(tag) : undefined) ?? DEFAULT_MODEL_KEY;
  return {
    /** The model directories routed to, each once (a route to DEFAULT_MODEL_KEY not included). */
    dirs: [...new Set(options.routes.map((r) => r.dir))].filter((d) => d !== DEFAULT_MODEL_KEY),
    /** `text`: what the model scores (title and text), read only when the review has no locale. */
    route(review: { locale?: string | undefined }, text: string): RouteDecision {
      if (review.locale !== undefined) {
        const tag = primarySubtag(review.locale);
        return { model: modelOf(tag), language: { tag, source: 'locale' } };
      }
      if (!options.identify) return { model: DEFAULT_MODEL_KEY, language: { tag: null, source: 'none' } };
      const guess = options.identify(text);
      if (guess.language === undefined)
        return { model: DEFAULT_MODEL_KEY, language: { tag: null, source: 'identified', confidence: 0 } };
      const confidence = round4(guess.confidence);
      // Decided on the rounded confidence the result carries, so a result explains its routing.
      const tag = confidence >= options.minConfidence ? guess.language : null;
      return { model: modelOf(tag), language: { tag, source: 'identified', confidence } };
    },
  };
}

export type ModelRouter = ReturnType<typeof createModelRouter>;
