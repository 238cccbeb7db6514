import type { Config } from '../config/load-config.ts';
import { createLanguageIdentifier } from '../inference/language-id.ts';
import { loadLanguageIdModel } from '../inference/language-id-model.ts';
import path from 'node:path';
import { createModelRouter, DEFAULT_MODEL_KEY, type ModelRouter } from '../inference/model-router.ts';
import type { RunnerOptions } from '../inference/model-runner.ts';
import type { Logger } from '../logging/logger.ts';

/**
 * MODEL_ROUTES for one worker process: the routed models every inference thread loads (the
 * default model's runner settings, another directory; keyed by directory, each once) and the
 * router (with the language-ID model, loaded here in the main thread: 256 KiB, microseconds per
 * review). Without routes: no further model and no router, so the worker is as before.
 */
export function createRoutingSetup(
  routing: Config['routing'],
  runner: RunnerOptions,
  logger: Logger,
): { models: { key: string; runner: RunnerOptions }[]; router: ModelRouter | undefined } {
  if (routing.routes.length === 0) return { models: [], router: undefined };
  const languageId = loadLanguageIdModel(routing.languageIdDir);
  // A route to MODEL_DIR itself uses the default model (not a second copy).
  const routes = routing.routes.map((r) =>
    path.resolve(r.dir) === path.resolve(runner.modelDir) ? { ...r, dir: DEFAULT_MODEL_KEY } : r,
  );
  const router = createModelRouter({
    routes,
    identify: createLanguageIdentifier(languageId).identify,
    minConfidence: routing.minConfidence,
  });
  const models = router.dirs.map((dir) => ({
    key: dir,
    runner: { ...runner, modelDir: dir, name: undefined, version: undefined },
  }));
  logger.info(
    {
      routes: Object.fromEntries(routing.routes.map((r) => [r.language, r.dir])),
      languageId: { dir: languageId.dir, version: languageId.version, minConfidence: routing.minConfidence },
    },
    'routing reviews by language',
  );
  return { models, router };
}
