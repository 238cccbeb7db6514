import { readFileSync, writeFileSync } from 'node:fs';
import { errorCodes, type ErrorCode } from '../contracts/error-codes.ts';

/** docs/errors.md's table of codes, generated from the registry so the two cannot drift. */
export function renderErrorTable(): string {
  const rows = (Object.keys(errorCodes) as ErrorCode[]).map((code) => {
    const { http, retryable, summary } = errorCodes[code];
    return `| \`${code}\` | ${http} | ${retryable ? 'yes' : 'no'} | ${summary} |`;
  });
  return ['| code | HTTP status | retryable | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

const TABLE = /<!-- error-codes:start -->\n([\s\S]*?)\n?<!-- error-codes:end -->/;

/** The table currently in a document, or undefined. */
export function errorTableIn(markdown: string): string | undefined {
  return TABLE.exec(markdown)?.[1];
}

/** Rewrites a document's table of codes from the registry (`npm run docs:errors`). */
export function updateErrorTable(file: string): void {
  const markdown = readFileSync(file, 'utf8');
  writeFileSync(
    file,
    markdown.replace(TABLE, `<!-- error-codes:start -->\n${renderErrorTable()}\n<!-- error-codes:end -->`),
  );
}
