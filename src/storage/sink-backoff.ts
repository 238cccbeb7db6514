/**
 * The result sink's pure rules for a failing database: which errors are about the data, and how
 * long to pause while it does not answer.
 */

export const MAX_PAUSE_MS = 30_000;

/**
 * Errors about the data itself, so storing the same result again fails again: SQLSTATE classes
 * 22 (data exception, e.g. \u0000 in text or jsonb), 23 (integrity constraint violation) and
 * 54 (program limit exceeded).
 */
export function refusedByDatabase(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && ['22', '23', '54'].includes(code.slice(0, 2));
}

export interface PauseState {
  /** The current pause; 0 while the database answers. */
  pauseMs: number;
  /** Until when the current round of failures is paused (epoch ms). */
  pausedUntil: number;
}

/**
 * The pause after a failure at `now`: a new round (past `pausedUntil`) doubles it (1 s, 2 s, …
 * up to MAX_PAUSE_MS); a failure within the round changes nothing (`step` false), however many
 * jobs and batches failed in it.
 */
export function nextPause(state: PauseState, now: number): PauseState & { step: boolean } {
  if (now < state.pausedUntil) return { ...state, step: false };
  const pauseMs = Math.min(Math.max(1000, state.pauseMs * 2), MAX_PAUSE_MS);
  return { pauseMs, pausedUntil: now + pauseMs, step: true };
}
