/**
 * What leave-one-source-out cross-validation says about a model setup: each held-out source's
 * accuracy and calibration, and the temperature fitted on all held-out logits (each source's rows
 * weighted so every source counts the same, so one large source does not set the temperature
 * for all of them).
 */
import { calibrationReport, fitTemperature, softmaxWithTemperature, type CalibrationReport } from './calibration.ts';
import { classificationMetrics, meanAbsoluteError } from './classification-metrics.ts';
import { argmax, type HeldOutSource } from './source-training.ts';

export interface CvSourceResult {
  name: string;
  rows: number;
  accuracy: number;
  macroF1: number;
  /** Numeric labels (stars): mean absolute error of the predicted label. */
  mae?: number | undefined;
  /** ECE of the fold's softmax before and after the fitted temperature. */
  eceBefore: number;
  eceAfter: number;
}

export interface CvReport {
  sources: CvSourceResult[];
  /** Unweighted mean over the held-out sources. */
  meanAccuracy: number;
  meanMae?: number | undefined;
  meanEceBefore: number;
  meanEceAfter: number;
  temperature: number;
  /** All held-out rows pooled, before and after the temperature. */
  pooledBefore: CalibrationReport;
  pooledAfter: CalibrationReport;
}

export function crossValidationReport(heldOut: readonly HeldOutSource[], labels: readonly string[]): CvReport {
  if (heldOut.length === 0) throw new Error('no held-out sources');
  const logits = heldOut.flatMap((s) => s.logits);
  const gold = heldOut.flatMap((s) => s.gold);
  const weights = heldOut.flatMap((s) => s.gold.map(() => 1 / s.gold.length));
  const temperature = fitTemperature(logits, gold, weights);
  const probs = (rows: readonly Float64Array[], t: number) => rows.map((l) => softmaxWithTemperature(l, t));
  const sources = heldOut.map((s): CvSourceResult => {
    const predicted = s.logits.map(argmax);
    const m = classificationMetrics([...labels], s.gold, predicted);
    const mae = meanAbsoluteError(labels, s.gold, predicted);
    return {
      name: s.name,
      rows: s.gold.length,
      accuracy: m.accuracy,
      macroF1: m.macroF1,
      ...(mae === undefined ? {} : { mae }),
      eceBefore: calibrationReport(probs(s.logits, 1), s.gold).ece,
      eceAfter: calibrationReport(probs(s.logits, temperature), s.gold).ece,
    };
  });
  const mean = (f: (s: CvSourceResult) => number) => sources.reduce((a, s) => a + f(s), 0) / sources.length;
  return {
    sources,
    temperature,
    meanAccuracy: mean((s) => s.accuracy),
    ...(sources[0]!.mae === undefined ? {} : { meanMae: mean((s) => s.mae!) }),
    meanEceBefore: mean((s) => s.eceBefore),
    meanEceAfter: mean((s) => s.eceAfter),
    pooledBefore: calibrationReport(probs(logits, 1), gold),
    pooledAfter: calibrationReport(probs(logits, temperature), gold),
  };
}
