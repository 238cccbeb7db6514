// Every code a client can receive is registered (src/contracts/error-codes.ts) and documented
// (docs/errors.md); every registered code is used; error bodies are built in one place.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCodes, isErrorCode } from '../../src/contracts/error-codes.ts';
import { errorTableIn, renderErrorTable } from '../../src/errors/error-docs.ts';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    return e.isDirectory() ? files(rel, pattern) : pattern.test(e.name) ? [rel] : [];
  });
}

/** Where the fleet's code raises or answers errors (the server, the client package, the dashboard). */
const CODE = [
  ...files('src', /\.(ts|mjs)$/),
  ...files('packages/client/src', /\.ts$/),
  ...files('dashboard/src', /\.ts$/),
];
/** What documents them. */
const DOCS = ['README.md', ...files('docs', /\.(md|json|py)$/)];
const CODE_WORD = /\bSF_ERR_[A-Z0-9_]+\b/g;

describe('error codes', () => {
  it('docs/errors.md lists the registry (regenerate with npm run docs:errors)', () => {
    expect(errorTableIn(read('docs/errors.md'))).toBe(renderErrorTable());
    for (const code of Object.keys(errorCodes)) expect(renderErrorTable()).toContain(`| \`${code}\` |`);
  });

  it('every code named in the code and the docs is registered', () => {
    const unregistered = [...CODE, ...DOCS].flatMap((file) =>
      [...read(file).matchAll(CODE_WORD)]
        .map((m) => m[0])
        .filter((code) => !isErrorCode(code))
        .map((code) => `${file}: ${code}`),
    );
    expect([...new Set(unregistered)]).toEqual([]);
  });

  it('every registered code is used by the code (beyond its registry entry)', () => {
    const uses = new Map<string, number>();
    for (const file of CODE) for (const m of read(file).matchAll(CODE_WORD)) uses.set(m[0], (uses.get(m[0]) ?? 0) + 1);
    expect(Object.keys(errorCodes).filter((code) => (uses.get(code) ?? 0) < 2)).toEqual([]);
  });

  it('HTTP error bodies are built by errorBody only (src/errors/http-error.ts)', () => {
    const handBuilt = CODE.filter(
      (file) => file !== path.join('src', 'errors', 'http-error.ts') && /\berror:\s*\{\s*code\b/.test(read(file)),
    );
    expect(handBuilt).toEqual([]);
  });
});
