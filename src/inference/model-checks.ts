import type { ExplainRequest } from './thread-protocol.ts';
import type { ModelInfo } from './model-runner.ts';

/**
 * Pure checks of a loaded model against the worker's settings, made once per worker process
 * (warnings) and once per batch (which items to explain).
 */

export interface ModelWarning {
  level: 'warn' | 'info';
  fields: Record<string, unknown>;
  message: string;
}

/**
 * What the worker logs at start-up about its model: a model without explanations (results carry
 * none, whatever jobs or EXPLAIN ask), and label lists that name none of its labels (a star-label
 * model with the default NEGATIVE_LABELS would make every negative share 0 and every rating disagree).
 */
export function modelWarnings(
  model: Pick<ModelInfo, 'name' | 'version' | 'modelType' | 'labels' | 'explanations'>,
  settings: { explainAll: boolean; negative: readonly string[]; positive: readonly string[] },
): ModelWarning[] {
  const warnings: ModelWarning[] = [];
  if (!model.explanations.supported) {
    warnings.push({
      level: settings.explainAll ? 'warn' : 'info',
      fields: {
        model: model.name,
        version: model.version,
        modelType: model.modelType ?? null,
        reason: model.explanations.reason,
        explainAll: settings.explainAll,
      },
      message: 'model does not support explanations: EXPLAIN and review "explain" are ignored',
    });
  }
  const modelLabels = new Set(model.labels.map((l) => l.toLowerCase()));
  for (const [setting, labels] of [
    ['NEGATIVE_LABELS', settings.negative],
    ['POSITIVE_LABELS', settings.positive],
  ] as const) {
    if (!labels.some((l) => modelLabels.has(l)))
      warnings.push({
        level: 'warn',
        fields: { setting, labels, modelLabels: model.labels },
        message: `${setting} names none of the model's labels: set it for this model (docs/storage.md)`,
      });
  }
  return warnings;
}

/** Which items of a batch to explain (EXPLAIN, or the review's own `explain`); undefined when none is. */
export function explainRequest(
  supported: boolean,
  asked: readonly (boolean | undefined)[],
  settings: { all: boolean; topK: number },
): ExplainRequest | undefined {
  if (!supported) return undefined;
  const flags = asked.map((a) => settings.all || a === true);
  return flags.includes(true) ? { flags, topK: settings.topK } : undefined;
}
