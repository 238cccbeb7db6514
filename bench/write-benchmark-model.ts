// npm run bench:model -- --out DIR [--seed 42] [--tokenizer-dir DIR]
// Writes the DistilBERT-sized benchmark model (benchmark-model.ts): random weights, for the
// transformer-sized profiles of `npm run bench` and `bench:compare`; its predictions are meaningless.
import { Command } from 'commander';
import { nonNegativeInt } from '../src/app/cli-options.ts';
import { runCommand } from '../src/lifecycle/run-command.ts';
import { writeBenchmarkModel } from './benchmark-model.ts';

await new Command('bench:model')
  .description(
    'write a DistilBERT-sized model with RANDOM weights (throughput benchmarks only; its predictions are meaningless)',
  )
  .requiredOption('--out <dir>', 'directory to write (~270 MB)')
  .option('--seed <n>', 'weight seed', nonNegativeInt, 42)
  .option(
    '--tokenizer-dir <dir>',
    'copy tokenizer.json/tokenizer_config.json from here (default: built-in bert-base-uncased)',
  )
  .action(async (o: { out: string; seed: number; tokenizerDir?: string }) => {
    await runCommand('bench:model', process.env, async () => {
      const r = await writeBenchmarkModel(o.out, { seed: o.seed, tokenizerDir: o.tokenizerDir });
      process.stdout.write(
        `wrote ${r.modelPath} (${(r.modelBytes / 1e6).toFixed(0)} MB): benchmark only, random weights\n`,
      );
    });
  })
  .parseAsync();
