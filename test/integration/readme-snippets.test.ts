// The README's quick start and SDK and the export of docs/storage.md, run as written against a
// live `npm start` stack (startLocalStack on free ports, its data in a temporary directory), so
// they cannot rot. Snippets are marked in the page (test/helpers/readme-snippets.ts says how); a
// section listed in CHECKED must mark every shell and TypeScript block it has.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack } from '../../src/app/local-stack.ts';
import { readStackFile } from '../../src/app/stack-file.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { PROJECT_ROOT } from '../helpers/fleet.ts';
import {
  compareOutput,
  danglingOutputs,
  extractSnippets,
  isRunnable,
  rewriteWellKnownUrls,
  runSnippet,
  shadowProject,
  where,
  type Snippet,
} from '../helpers/readme-snippets.ts';
import { pollUntil } from '../helpers/results.ts';

/** The pages whose snippets run, in this order, and in each the sections checked for unmarked blocks. */
const CHECKED = [
  { file: 'README.md', sections: ['Quick start', 'SDK'] },
  { file: 'docs/storage.md', sections: ['Export'] },
];
const pages = CHECKED.map((c) => ({ ...c, markdown: readFileSync(path.join(PROJECT_ROOT, c.file), 'utf8') }));
const snippets = pages.flatMap((p) => extractSnippets(p.markdown, p.file));
const RUNS_CODE = new Set(['sh', 'bash', 'shell', 'ts', 'typescript']);
const live = snippets.filter((s) => isRunnable(s) && !s.flags.includes('stopped'));
const afterStop = snippets.filter((s) => isRunnable(s) && s.flags.includes('stopped'));
/** The commands a ```sh stack block may hold: the test starts the same stack in-process. */
const START_COMMANDS = [/^npm ci$/, /^npm start( -- --workers \d+)?$/];

type Stack = Awaited<ReturnType<typeof startLocalStack>>;

describe('snippet markers of the README and the docs', () => {
  it('every shell and TypeScript block of the checked sections is run (test) or starts the stack (stack)', () => {
    const checked = (s: Snippet) => CHECKED.some((c) => c.file === s.file && c.sections.includes(s.section));
    const unmarked = snippets.filter(
      (s) => checked(s) && RUNS_CODE.has(s.lang) && !isRunnable(s) && !s.flags.includes('stack'),
    );
    expect(unmarked.map((s) => `${where(s)} (${s.section})`)).toEqual([]);
    for (const { file, sections } of CHECKED) {
      for (const section of sections)
        expect(
          snippets.some((s) => s.file === file && s.section === section && isRunnable(s)),
          `${file}: ${section}`,
        ).toBe(true);
    }
    for (const p of pages)
      expect(danglingOutputs(p.markdown), `${p.file}: output blocks that follow no block`).toEqual([]);
  });

  it('the stack block holds only the commands the test stands in for', () => {
    const stackBlocks = snippets.filter((s) => s.flags.includes('stack'));
    expect(stackBlocks).toHaveLength(1);
    const commands = stackBlocks[0]!.code
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    for (const c of commands)
      expect(
        START_COMMANDS.some((re) => re.test(c)),
        c,
      ).toBe(true);
  });
});

describe('snippets of the README and the docs against a live stack', () => {
  const project = shadowProject(PROJECT_ROOT);
  const data = path.join(project.dir, '.sf-data');
  const logLines: Record<string, unknown>[] = [];
  let stack: Stack | undefined;
  let queues: Queue[] = [];

  // As a user's shell: nothing of this process's settings (REDIS_URL, DATABASE_URL, …) leaks in.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', npm_config_update_notifier: 'false' };
  const rewrite = (code: string) =>
    rewriteWellKnownUrls(code, { ingest: stack!.ingest.url, stats: stack!.stats.url, redis: stack!.redisUrl });

  beforeAll(async () => {
    // The SDK snippets import @sentiment-fleet/client, which resolves to the workspace's dist/.
    if (live.some((s) => s.lang === 'ts'))
      execFileSync('npm', ['run', '-s', 'build:client'], { cwd: PROJECT_ROOT, stdio: 'ignore' });
    mkdirSync(data, { recursive: true });
    const config = loadConfig({
      HTTP_PORT: '0',
      STATS_HTTP_PORT: '0',
      LOCAL_REDIS_DIR: path.join(data, 'redis'),
      SINK_DATA_DIR: path.join(data, 'pglite'),
      STACK_FILE: path.join(data, 'stack.json'),
      LOG_FORMAT: 'json',
    });
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ level: 'info', format: 'json', destination });
    const workerEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      INFERENCE_THREADS: '1',
      INTRA_OP_THREADS: '1',
    };
    stack = await startLocalStack({ config, logger, workers: 1, env: workerEnv });
    const opts = { connection: { url: stack.redisUrl }, prefix: config.redis.prefix };
    queues = [new Queue(config.queues.reviews, opts), new Queue(config.queues.results, opts)];
  }, 180_000);

  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await stack?.close();
    project.remove();
  });

  /** Like a person reading the answer before typing the next command: nothing queued or in flight. */
  async function idle(): Promise<void> {
    const pending = async () =>
      (await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')))).map((c) =>
        Object.values(c).reduce((a, b) => a + b, 0),
      );
    await pollUntil(
      async () => (await pending()).every((n) => n === 0),
      30_000,
      async () => `jobs pending: ${JSON.stringify(await pending())}`,
    );
  }

  async function check(snippet: Snippet): Promise<string> {
    const run = await runSnippet(snippet, { cwd: project.dir, env, rewrite });
    const context = `${where(snippet)}:\n${rewrite(snippet.code)}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
    expect(run.code, context).toBe(0);
    if (snippet.output) expect(compareOutput(snippet.output, run.stdout), context).toEqual([]);
    return run.stderr;
  }

  it('npm start says where it runs: the ready message has an import line, the stack file the URLs', () => {
    const ready = logLines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('ready.'));
    expect(ready?.msg).toContain(`curl -s -X POST ${stack!.ingest.url}/v1/reviews`);
    expect(ready?.msg).toMatch(/npm run import -- reviews\.jsonl$/);
    const lookup = readStackFile(path.join(data, 'stack.json'));
    expect(lookup.state).toBe('running');
    if (lookup.state !== 'running') return;
    expect(lookup.stack).toMatchObject({
      pid: process.pid,
      ingestUrl: stack!.ingest.url,
      statsUrl: stack!.stats.url,
      redis: { url: stack!.redisUrl, passwordRedacted: false },
      database: { kind: 'pglite', dir: path.join(data, 'pglite') },
    });
  });

  for (const snippet of live) {
    it(`runs ${where(snippet)} (${snippet.section}) as written`, async () => {
      await idle();
      const stderr = await check(snippet);
      // Without REDIS_URL, import found this stack through the stack file, and said so once.
      if (/npm run import/.test(snippet.code))
        expect(stderr.match(/using the running npm start stack at (\S+)/g)).toEqual([
          `using the running npm start stack at ${stack!.ingest.url}`,
        ]);
    });
  }

  for (const snippet of afterStop) {
    it(`runs ${where(snippet)} (${snippet.section}) as written, after the stack stopped`, async () => {
      if (stack) {
        await idle();
        await Promise.all(queues.map((q) => q.close()));
        queues = [];
        await stack.close();
        expect(existsSync(path.join(data, 'stack.json')), 'the stack file is removed on a clean stop').toBe(false);
      }
      await check(snippet);
    });
  }
});
