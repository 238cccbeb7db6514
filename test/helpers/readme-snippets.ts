// The runnable snippets of the README and the docs: extract them, run them (bash, or TypeScript
// under tsx) against a live stack, and compare what they print with the output the page shows.
//
// Markers (the info string of a fenced block; GitHub renders the first word as the language):
//   ```sh test            run with bash against the running stack (set -e, pipefail)
//   ```ts test            run with `node --import tsx` against the running stack
//   ```sh test stopped    run after the stack has stopped (e.g. export from the embedded PGlite)
//   ```sh stack           the commands that start the stack; the test starts it in-process instead
//   ```json output        right after a runnable block: what it prints on stdout (```text output
//                         for plain text). JSON is compared by shape; see compareOutput.
// Snippets name the default addresses (http://127.0.0.1:3000, :3001, redis://127.0.0.1:6379);
// rewriteWellKnownUrls points them at the test's stack, which runs on free ports.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SnippetOutput {
  lang: string;
  text: string;
  line: number;
}

export interface Snippet {
  /** The Markdown file it is in, as given to extractSnippets (README.md, docs/storage.md). */
  file: string;
  /** The first word of the info string: sh, bash, ts, json, … */
  lang: string;
  /** The other words of the info string (test, stopped, stack, output, …). */
  flags: string[];
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The `##` section the block sits in. */
  section: string;
  /** The `output` block that follows it (only blank lines between). */
  output?: SnippetOutput;
}

const FENCE = /^(\s*)(`{3,})(.*)$/;

/** Every fenced code block of a Markdown document, with the output block attached to its command. */
export function extractSnippets(markdown: string, file = 'README.md'): Snippet[] {
  const lines = markdown.split('\n');
  const blocks: (Snippet & { end: number })[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^##\s+(.*)$/.exec(lines[i]!);
    if (heading) section = heading[1]!.trim();
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, indent, ticks, info] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j]!.trim().startsWith(ticks!) && lines[j]!.trim().replace(/`/g, '') === '')) {
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!);
      j++;
    }
    const [lang = '', ...flags] = info!.trim().split(/\s+/).filter(Boolean);
    blocks.push({ file, lang, flags, code: body.join('\n'), line: i + 1, section, end: j + 1 });
    i = j;
  }
  const snippets: Snippet[] = [];
  for (let k = 0; k < blocks.length; k++) {
    const { end, ...block } = blocks[k]!;
    if (block.flags.includes('output')) continue; // attached to the block before it
    const next = blocks[k + 1];
    const between = next ? lines.slice(end, next.line - 1) : [];
    if (next?.flags.includes('output') && between.every((l) => l.trim() === '')) {
      block.output = { lang: next.lang, text: next.code, line: next.line };
    }
    snippets.push(block);
  }
  return snippets;
}

/** Output blocks that follow no block at all (a typo in a marker would leave one dangling). */
export function danglingOutputs(markdown: string): number[] {
  const attached = new Set(extractSnippets(markdown).flatMap((s) => (s.output ? [s.output.line] : [])));
  const lines = markdown.split('\n');
  const dangling: number[] = [];
  let inBlock = false;
  lines.forEach((line, i) => {
    const open = FENCE.exec(line);
    if (!open) return;
    if (!inBlock && open[3]!.trim().split(/\s+/).includes('output') && !attached.has(i + 1)) dangling.push(i + 1);
    inBlock = !inBlock;
  });
  return dangling;
}

export const isRunnable = (s: Snippet) => s.flags.includes('test');

/** Where a snippet is, for messages and test names: `README.md line 42`. */
export const where = (s: Pick<Snippet, 'file' | 'line'>) => `${s.file} line ${s.line}`;

export interface SnippetRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SnippetContext {
  /** Where snippets run: their relative files (reviews.jsonl, results.csv) land here. */
  cwd: string;
  /** The whole environment of the snippet (nothing is inherited). */
  env: Record<string, string | undefined>;
  /** Rewrites the snippets' well-known URLs (http://127.0.0.1:3000) to the test stack's. */
  rewrite: (code: string) => string;
  timeoutMs?: number;
}

/** The default addresses the snippets name, replaced by the test stack's. */
export function rewriteWellKnownUrls(code: string, urls: { ingest: string; stats: string; redis: string }): string {
  return code
    .replace(/http:\/\/(127\.0\.0\.1|localhost):3000/g, urls.ingest)
    .replace(/http:\/\/(127\.0\.0\.1|localhost):3001/g, urls.stats)
    .replace(/redis:\/\/(127\.0\.0\.1|localhost):6379/g, urls.redis);
}

/** Runs one snippet: sh/bash with `bash -e -o pipefail`, ts with `node --import tsx`. */
export function runSnippet(snippet: Snippet, ctx: SnippetContext): Promise<SnippetRun> {
  const code = ctx.rewrite(snippet.code);
  let command: string;
  let args: string[];
  if (snippet.lang === 'sh' || snippet.lang === 'bash' || snippet.lang === 'shell') {
    command = 'bash';
    args = ['-e', '-o', 'pipefail', '-c', code];
  } else if (snippet.lang === 'ts' || snippet.lang === 'typescript') {
    const file = path.join(ctx.cwd, `snippet-${snippet.file.replace(/[^\w]+/g, '-')}-line-${snippet.line}.ts`);
    writeFileSync(file, `${code}\n`);
    command = process.execPath;
    args = ['--import', 'tsx', file];
  } else {
    throw new Error(`${where(snippet)}: no runner for \`${snippet.lang}\` snippets`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ctx.cwd,
      env: ctx.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: ctx.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (exit) => resolve({ code: exit, stdout, stderr }));
  });
}

/**
 * A directory that `npm run …` treats as the project (package.json, the sources and node_modules
 * linked in), so snippets run as written without writing into the checkout: what they create
 * (reviews.jsonl, results.csv, .sf-data) stays in this directory.
 */
export function shadowProject(root: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sf-readme-'));
  const entries = [
    'package.json',
    'package-lock.json',
    '.npmrc',
    'tsconfig.json',
    'node_modules',
    'bin',
    'producer',
    'workers',
    'src',
    'models',
    'dashboard',
  ];
  for (const entry of entries) symlinkSync(path.join(root, entry), path.join(dir, entry));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Keys whose numbers change from run to run (timings, how reviews happened to be batched). */
export const VOLATILE_KEYS = new Set(['batchSize', 'queuedMs', 'inferenceMs', 'durationMs', 'backlogWaitMs', 'pid']);

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Where `actual` differs from the shown `expected`: the same keys (the doc may leave keys out,
 * never invent or rename one), arrays of the same length, equal strings, booleans and integers,
 * except timestamps (any ISO time), fractional numbers (scores, means) and VOLATILE_KEYS, whose
 * types only must agree.
 */
export function shapeDifferences(expected: unknown, actual: unknown, at = '$', key = ''): string[] {
  const [e, a] = [kind(expected), kind(actual)];
  if (e !== a) return [`${at}: the doc shows ${e} ${JSON.stringify(expected)}, got ${a} ${JSON.stringify(actual)}`];
  if (e === 'array') {
    const [ea, aa] = [expected as unknown[], actual as unknown[]];
    if (ea.length !== aa.length)
      return [`${at}: the doc shows ${ea.length} items, got ${aa.length}: ${JSON.stringify(actual)}`];
    return ea.flatMap((item, i) => shapeDifferences(item, aa[i], `${at}[${i}]`, key));
  }
  if (e === 'object') {
    const [eo, ao] = [expected as Record<string, unknown>, actual as Record<string, unknown>];
    return Object.keys(eo).flatMap((k) =>
      k in ao
        ? shapeDifferences(eo[k], ao[k], `${at}.${k}`, k)
        : [`${at}: no key ${JSON.stringify(k)} in ${JSON.stringify(actual)}`],
    );
  }
  if (VOLATILE_KEYS.has(key)) return [];
  if (e === 'string' && ISO_TIME.test(expected as string) && ISO_TIME.test(actual as string)) return [];
  if (e === 'number' && (!Number.isInteger(expected) || !Number.isInteger(actual))) return [];
  return expected === actual ? [] : [`${at}: the doc shows ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

/** One JSON document, or one per line (JSON Lines). */
function parseJsonOutput(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as unknown);
  }
}

/** npm's `> pkg@version script` banner and blank lines are not the command's output. */
function meaningfulLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '' && !l.startsWith('> '));
}

/** Fractional numbers (durations such as `0.1 s`) vary from run to run. */
const maskFractions = (line: string) => line.replace(/\d+\.\d+/g, '#.#');

/** Differences between a snippet's stdout and the output the the doc shows for it (none: equal). */
export function compareOutput(expected: SnippetOutput, stdout: string): string[] {
  if (expected.lang === 'json') {
    let shown: unknown;
    try {
      shown = parseJsonOutput(expected.text);
    } catch {
      return [`the doc's output block (line ${expected.line}) is not JSON`];
    }
    try {
      return shapeDifferences(shown, parseJsonOutput(meaningfulLines(stdout).join('\n')));
    } catch {
      return [`stdout is not JSON: ${stdout}`];
    }
  }
  const [want, got] = [meaningfulLines(expected.text).map(maskFractions), meaningfulLines(stdout).map(maskFractions)];
  const problems: string[] = [];
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    if (want[i] !== got[i])
      problems.push(
        `line ${i + 1}: the doc shows ${JSON.stringify(want[i] ?? '(nothing)')}, got ${JSON.stringify(got[i] ?? '(nothing)')}`,
      );
  }
  return problems;
}
