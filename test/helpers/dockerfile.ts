import { execFile } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A Dockerfile read as BuildKit reads it (comments dropped, `\` continuations joined, global ARGs
 * substituted into FROM), and a dry run of one stage's steps into a directory, for a machine with
 * no Docker engine: WORKDIR is the directory, COPY copies from the build context (or, with
 * --from, from a directory the caller maps the other stage's path to), RUN runs with `sh -c`
 * there with the stage's ENV. Instructions that only set image metadata are recorded, not run.
 */
export interface DockerInstruction {
  keyword: string;
  /** The instruction's text after the keyword (continuations joined with a space). */
  args: string;
  line: number;
}

export interface DockerStage {
  /** The base image, ARGs substituted. */
  from: string;
  name: string | undefined;
  instructions: DockerInstruction[];
}

export interface ParsedDockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: DockerStage[];
}

const METADATA = new Set([
  'USER',
  'CMD',
  'ENTRYPOINT',
  'EXPOSE',
  'LABEL',
  'HEALTHCHECK',
  'STOPSIGNAL',
  'ARG',
  'SHELL',
  'VOLUME',
]);

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (m, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? m,
  );
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions: DockerInstruction[] = [];
  let pending: DockerInstruction | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#')) return; // a comment, also between continuation lines
    if (!pending) {
      if (line === '') return;
      const m = /^(\w+)\s*(.*)$/.exec(line);
      if (!m) throw new Error(`Dockerfile line ${i + 1}: cannot read ${JSON.stringify(line)}`);
      pending = { keyword: m[1]!.toUpperCase(), args: '', line: i + 1 };
      instructions.push(pending);
      raw = m[2]!;
    }
    const continued = /\\\s*$/.test(raw);
    const part = raw.replace(/\\\s*$/, '').trim();
    pending.args = pending.args === '' ? part : part === '' ? pending.args : `${pending.args} ${part}`;
    if (!continued) pending = undefined;
  });

  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`Dockerfile line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ from: substitute(m[1]!, globalArgs), name: m[2], instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} before the first FROM`);
      const [name, value = ''] = ins.args.split('=', 2) as [string, string?];
      globalArgs[name] = value;
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** A stage by name, or the last (the image's final stage) without one. */
export function stage(file: ParsedDockerfile, name?: string): DockerStage {
  const found = name === undefined ? file.stages.at(-1) : file.stages.find((s) => s.name === name);
  if (!found) throw new Error(`no Dockerfile stage ${name ?? '(final)'}`);
  return found;
}

export interface DryRunOptions {
  /** Where the stage's WORKDIR is laid out. */
  dir: string;
  /** The build context (the checkout). */
  context: string;
  /** The directory that `COPY --from=<stage> <source>` copies from. */
  fromStage?: (stageName: string, source: string) => string;
  /** Environment for RUN, under the stage's ENV. */
  env?: NodeJS.ProcessEnv;
  /**
   * Runs a RUN step instead of `sh -c` (return true), e.g. to stand in for a step the caller
   * reproduces otherwise; return false to run it as written.
   */
  replaceRun?: (command: string) => Promise<boolean>;
}

const execFileAsync = promisify(execFile);

/** Runs `stage`'s steps into `options.dir` (see the file comment); returns the stage's ENV. */
export async function dryRunStage(st: DockerStage, options: DryRunOptions): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  let workdir: string | undefined;
  const inDir = (p: string): string => {
    if (!workdir) throw new Error('a step before WORKDIR');
    return path.join(options.dir, path.isAbsolute(p) ? path.relative(workdir, p) : p);
  };
  for (const ins of st.instructions) {
    const where = `Dockerfile line ${ins.line} (${ins.keyword})`;
    if (ins.keyword === 'WORKDIR') {
      if (workdir !== undefined || !path.isAbsolute(ins.args))
        throw new Error(`${where}: one absolute WORKDIR per stage is supported`);
      workdir = ins.args;
      mkdirSync(options.dir, { recursive: true });
    } else if (ins.keyword === 'ENV') {
      for (const pair of ins.args.split(/\s+/)) {
        const [k, v] = pair.split('=', 2) as [string, string?];
        if (v === undefined) throw new Error(`${where}: write ENV as key=value`);
        env[k] = v;
      }
    } else if (ins.keyword === 'COPY') {
      const words = ins.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const [dest, ...sources] = words.filter((w) => !w.startsWith('--')).reverse();
      if (!dest || sources.length === 0) throw new Error(`${where}: COPY needs sources and a destination`);
      for (const source of sources.reverse()) {
        const src = from === undefined ? path.join(options.context, source) : options.fromStage?.(from, source);
        if (!src) throw new Error(`${where}: no directory for stage ${from}`);
        const target =
          dest.endsWith('/') || sources.length > 1 ? path.join(inDir(dest), path.basename(source)) : inDir(dest);
        cpSync(src, target, { recursive: true });
      }
    } else if (ins.keyword === 'RUN') {
      if (ins.args.startsWith('--') || ins.args.startsWith('['))
        throw new Error(`${where}: RUN flags and exec form are not supported`);
      if (await options.replaceRun?.(ins.args)) continue;
      await execFileAsync('sh', ['-ec', ins.args], {
        cwd: inDir('.'),
        env: { ...options.env, ...env },
        maxBuffer: 64 * 1024 * 1024,
      });
    } else if (!METADATA.has(ins.keyword)) {
      throw new Error(`${where}: not supported by this dry run`);
    }
  }
  return env;
}
