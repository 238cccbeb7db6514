/**
 * The adaptive policy's start-up calibration of one length class: how long a model call of 1, 2,
 * 4 … rows of that length takes. A first pass doubles the rows until a call takes `stopMs` (or
 * reaches the token budget or `maxRows`), two runs each (the first run of a shape also pays for
 * its allocations). Further passes time every size again, in the opposite order each time, and a
 * size's cost is the fastest of its runs. One pass in one order let a machine whose speed drifted
 * during the calibration (another process, a scavenge) favour the sizes timed in its fast
 * moments: in full benchmark runs the transformer's ~128-token class came out at 1 row in two
 * runs and 4 in another, whose calls were then 7% slower per review than single rows.
 */

export interface ClassCalibrationOptions {
  /** Row length of the class, in tokens. */
  length: number;
  /** Token budget of a call: rows × length stays within it. */
  maxTokens: number;
  /** Most rows a call will ever see (BATCH_MAX_SIZE). */
  maxRows: number;
  /** The first pass stops doubling once a call takes this long. */
  stopMs: number;
  /** Passes over the sizes after the first (0: the first pass alone). */
  extraPasses: number;
}

/** Times calls of `rows` rows of the class (milliseconds); the caller runs the model. */
export type TimeCall = (rows: number) => Promise<number>;

/** The fastest run of each size, smallest size first. */
export async function calibrateClass(time: TimeCall, options: ClassCalibrationOptions): Promise<{ rows: number; ms: number }[]> {
  const best = new Map<number, number>();
  const run = async (rows: number): Promise<number> => {
    const ms = await time(rows);
    best.set(rows, Math.min(best.get(rows) ?? Infinity, ms));
    return best.get(rows)!;
  };
  const sizes: number[] = [];
  for (let rows = 1; rows * options.length <= options.maxTokens && rows <= options.maxRows; rows *= 2) {
    sizes.push(rows);
    await run(rows);
    if ((await run(rows)) >= options.stopMs) break;
  }
  for (let pass = 0; pass < options.extraPasses; pass++) {
    for (const rows of pass % 2 === 0 ? [...sizes].reverse() : sizes) await run(rows);
  }
  return sizes.map((rows) => ({ rows, ms: best.get(rows)! }));
}
