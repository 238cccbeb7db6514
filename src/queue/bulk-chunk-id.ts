import { createHash } from 'node:crypto';
import { BULK_JOB_ID_PREFIX } from '../contracts/bulk-job.ts';

/**
 * The job id of a bulk chunk (src/contracts/bulk-job.ts): BULK_JOB_ID_PREFIX and the first 128
 * bits of the sha256 of the model version and the sorted review ids, so the same reviews sent
 * again for the same model are the same job (while it is kept), whatever their order.
 */
export function bulkChunkJobId(reviewIds: readonly string[], modelVersion: string): string {
  const hash = createHash('sha256');
  hash.update(`${modelVersion}\u0000`);
  for (const id of [...reviewIds].sort()) hash.update(`${id}\u0000`);
  return `${BULK_JOB_ID_PREFIX}${hash.digest('hex').slice(0, 32)}`;
}
