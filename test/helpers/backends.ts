/**
 * Tests that need a backend (PostgreSQL, redis-server, Chromium, python3, openssl) skip with a
 * message on a machine without it, but never under CI: .ci/run installs every backend, so a
 * missing one there is a broken CI machine, not a reason to pass. Checks that need ../shared
 * data are not backends: they skip with a message wherever it is absent (SHARED_DIR).
 */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}

/**
 * For `describe.skipIf(...)` / `it.skipIf(...)`: `reason` says what is missing (undefined when
 * nothing is). Returns whether to skip; prints the reason when skipping; under CI=true throws
 * instead, which fails the test file.
 */
export function missingBackend(reason: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (reason === undefined) return false;
  if (underCi(env))
    throw new Error(`CI=true and ${reason}: a test needing it must run in CI, not skip (.ci/run installs it)`);
  console.warn(`skipped: ${reason}`);
  return true;
}
