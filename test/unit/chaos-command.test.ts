// `npm run chaos` options (chaos/chaos-command.ts): --help and bad options end in an exit code,
// never in a thrown error (issue 16: `npm run chaos -- --help` printed a stack trace).
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../helpers/config.ts';
import { CHAOS_EXIT, chaosOptionsFrom, parseChaosCli, type ChaosCli } from '../../chaos/chaos-command.ts';
import { DEFAULT_FAULTS, FAULT_KINDS, loadSeconds } from '../../chaos/chaos-options.ts';

function parse(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const result = parseChaosCli(argv, '/project', {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { result, stdout, stderr };
}

function cli(...argv: string[]): ChaosCli {
  const { result, stderr } = parse(...argv);
  if (!('cli' in result)) throw new Error(`expected options, got exit ${result.exitCode}: ${stderr}`);
  return result.cli;
}

describe('npm run chaos options', () => {
  it('--help prints the usage and exit codes on stdout and exits 0', () => {
    const { result, stdout, stderr } = parse('--help');
    expect(result).toEqual({ exitCode: CHAOS_EXIT.ok });
    expect(stdout).toMatch(/^Usage: chaos \[options\]/);
    expect(stdout).toContain('--reviews <n>');
    expect(stdout).toContain('Exit codes: 0');
    expect(stderr).toBe('');
  });

  it.each([
    [['--bogus'], /unknown option '--bogus'/],
    [['--modes', 'fsync'], /each mode must be everysec or always/],
    [['--faults', 'nope=1'], /unknown fault kind "nope"/],
    [['--faults', 'worker-kill=-1'], /whole number/],
    [['--reviews', '0'], /whole number ≥ 1/],
    [['--rate', 'fast'], /number > 0/],
    [['--reviews', '100', '--duration', '5'], /cannot be used with/],
    [['extra'], /too many arguments/],
    [['--rate'], /argument missing/],
  ])('%j: one line on stderr, exit 2', (argv, message) => {
    const { result, stdout, stderr } = parse(...argv);
    expect(result).toEqual({ exitCode: CHAOS_EXIT.usage });
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/^chaos: error: [^\n]*\(see npm run chaos -- --help\)\n$/);
    expect(stdout).toBe('');
  });

  it('defaults to 50,000 reviews per mode in both appendfsync modes with every fault kind', () => {
    const options = chaosOptionsFrom(cli(), defaultConfig({}), '/project');
    expect(options.reviews).toBeGreaterThanOrEqual(50_000);
    expect(options.modes).toEqual(['everysec', 'always']);
    for (const kind of FAULT_KINDS) expect(options.faults[kind], kind).toBeGreaterThanOrEqual(1);
    expect(loadSeconds(options)).toBe(options.reviews / options.rate);
  });

  it('--duration sets the reviews from the rate; --faults overrides the default counts', () => {
    const options = chaosOptionsFrom(
      cli('--duration', '30', '--rate', '80', '--faults', 'redis-pause=0,worker-kill=1'),
      defaultConfig({}),
      '/project',
    );
    expect(options.reviews).toBe(2400);
    expect(options.faults).toEqual({ ...DEFAULT_FAULTS, 'redis-pause': 0, 'worker-kill': 1 });
  });
});
