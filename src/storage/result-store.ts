import type { SentimentResult } from '../contracts/result-contract.ts';
import type { SqlExecutor } from './sql-client.ts';

const COLUMNS = [
  ['review_id', 'text'],
  ['model_name', 'text'],
  ['model_version', 'text'],
  ['product_id', 'text'],
  ['label', 'text'],
  ['score', 'float8'],
  ['scores', 'jsonb'],
  ['tokens', 'int4'],
  ['truncated', 'bool'],
  ['batch_size', 'int4'],
  ['queued_ms', 'float8'],
  ['inference_ms', 'float8'],
  ['processed_at', 'timestamptz'],
  ['explanation', 'jsonb'],
  ['rating', 'float8'],
  ['locale', 'text'],
  ['submitted_at', 'timestamptz'],
  ['metadata', 'jsonb'],
  ['language', 'text'],
  ['language_source', 'text'],
  ['language_confidence', 'float8'],
] as const;

function row(r: SentimentResult): unknown[] {
  return [
    r.reviewId,
    r.model.name,
    r.model.version,
    r.productId,
    r.label,
    r.score,
    JSON.stringify(r.scores),
    r.tokens,
    r.truncated,
    r.batchSize,
    r.timings.queuedMs,
    r.timings.inferenceMs,
    r.processedAt,
    r.explanation === undefined ? null : JSON.stringify(r.explanation),
    r.rating ?? null,
    r.locale ?? null,
    r.submittedAt ?? null,
    r.metadata === undefined ? null : JSON.stringify(r.metadata),
    r.language?.tag ?? null,
    r.language?.source ?? null,
    r.language?.confidence ?? null,
  ];
}

const names = COLUMNS.map(([name]) => name);
const UPSERT = `
  INSERT INTO sentiment_results (${names.join(', ')})
  SELECT * FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
  ON CONFLICT (review_id, model_version) DO UPDATE SET
    ${names
      .filter((n) => n !== 'review_id' && n !== 'model_version')
      .map((n) => `${n} = excluded.${n}`)
      .join(',\n    ')}`;

/**
 * Stores results as one multi-row upsert (one array parameter per column, so the statement is
 * the same for any batch size). Keyed by review id and model version: storing a result again
 * overwrites it with the same values and keeps its first `stored_at`, so re-delivery stores one
 * row. Results repeated inside one batch are collapsed first (Postgres refuses to update one row
 * twice in a statement).
 */
export async function upsertResults(db: SqlExecutor, results: readonly SentimentResult[]): Promise<number> {
  if (results.length === 0) return 0;
  const unique = new Map(results.map((r) => [`${r.model.version}\u0000${r.reviewId}`, r]));
  const rows = [...unique.values()].map(row);
  const columns = COLUMNS.map((_, c) => rows.map((r) => r[c]));
  await db.query(UPSERT, columns);
  return unique.size;
}
