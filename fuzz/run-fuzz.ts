import { Command, InvalidArgumentError } from 'commander';
import { formatSummary, fuzzPassed, runFuzz } from './fuzz-runner.ts';

/**
 * `npm run fuzz -- --cases 10000 --seed 1`: grammar-generated requests against a live ingest
 * service (child process, real redis-server, real sockets). Exits 1 on any 5xx, hang, event-loop
 * stall over --stall-ms, or broken error contract.
 */
const count = (name: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};

const program = new Command('fuzz')
  .description(
    'Fuzz POST /v1/reviews of a live ingest service (own redis-server, real sockets) with grammar-generated cases; report statuses, 5xx, hangs and event-loop stalls.',
  )
  .option('--cases <n>', 'random cases after the fixed ones', count('--cases', 0), 10_000)
  .option('--seed <s>', 'seed of the generator', count('--seed', 0), 20_261_122)
  .option(
    '--hostile-every <n>',
    'a hostile shape (just under the body limit) every n cases; 0: none',
    count('--hostile-every', 0),
    100,
  )
  .option('--timeout-ms <ms>', 'an answer slower than this is a hang', count('--timeout-ms', 1), 15_000)
  .option('--stall-ms <ms>', 'an event-loop delay over this in the service is a stall', count('--stall-ms', 1), 100)
  .option('--json', 'print the summary as JSON', false)
  .showHelpAfterError();

program.parse();
const options = program.opts<{
  cases: number;
  seed: number;
  hostileEvery: number;
  timeoutMs: number;
  stallMs: number;
  json: boolean;
}>();

try {
  const summary = await runFuzz({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(
    options.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary, options.stallMs)}\n`,
  );
  process.exitCode = fuzzPassed(summary) ? 0 : 1;
} catch (err) {
  process.stderr.write(`fuzz: ${(err as Error).message}\n`);
  process.exitCode = 2;
}
