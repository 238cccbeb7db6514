// The `npm run chaos` entrypoint itself: --help and a bad option exit 0 / 2 without a stack trace
// (issue 16, finding 7; before, both ended in runCommand's catch: a CommanderError's stack, exit 1).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');

function runChaos(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'chaos/run-chaos.ts'), ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('npm run chaos', () => {
  it('--help: usage on stdout, exit 0, nothing on stderr', () => {
    const r = runChaos('--help');
    expect(r.stdout).toMatch(/^Usage: chaos/);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a bad option: one line on stderr, exit 2, no stack', () => {
    const r = runChaos('--modes', 'fsync');
    expect(r.stderr).toMatch(
      /^chaos: error: option '--modes <list>' argument 'fsync' is invalid\. each mode must be everysec or always \(see npm run chaos -- --help\)\n$/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(2);
  });
});
