// The `GET /v1/stats` document (docs/stats-api.md) and the storage routes' shapes, as the server
// defines them: type-only imports, erased by the bundler, so the two sides cannot drift.
export type { DriftStats, FleetStats, JobState as QueueState } from '../../src/stats/fleet-stats.ts';
export type { ProductSummary, StoredResult } from '../../src/storage/result-queries.ts';
export type { RatingAgreement } from '../../src/results/label-polarity.ts';
export type { HistoryPoint, HistoryValues } from '../../src/stats/history-point.ts';
export type { LanguageShares } from '../../src/stats/language-stats.ts';
export type { ProductRanking, RankedProduct } from '../../src/storage/product-ranking.ts';
