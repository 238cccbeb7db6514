/**
 * Capacity kept for live work while both lanes are busy: after a bulk batch that took d ms, the
 * next bulk batch waits d × (1 / share − 1) ms if a live batch started within the last
 * `liveWindowMs`, so that bulk work takes at most `share` of an inference thread's time while live
 * reviews arrive (and leaves the cores to the main thread and Redis meanwhile). Share 1: no pause.
 * Without live work, bulk batches run back to back.
 */
export interface BulkPacerOptions {
  /** BULK_SHARE_WHILE_LIVE, in (0, 1]. */
  share: number;
  liveWindowMs?: number;
  now?: () => number;
}

export function createBulkPacer(options: BulkPacerOptions) {
  const now = options.now ?? (() => performance.now());
  const window = options.liveWindowMs ?? 100;
  const idleFactor = options.share >= 1 ? 0 : 1 / Math.max(0.01, options.share) - 1;
  let lastLiveAt = -Infinity;
  let resumeAt = -Infinity;
  return {
    liveStarted(): void {
      lastLiveAt = now();
    },
    /** Milliseconds until a bulk batch may start (0: at once). */
    bulkDelay(): number {
      const t = now();
      if (idleFactor === 0 || t - lastLiveAt > window) return 0;
      return Math.max(0, resumeAt - t);
    },
    /** A bulk batch that started at `startedAt` (this clock) ended now. */
    bulkFinished(startedAt: number): void {
      if (idleFactor === 0) return;
      const t = now();
      resumeAt = t + (t - startedAt) * idleFactor;
    },
    now,
  };
}

export type BulkPacer = ReturnType<typeof createBulkPacer>;
