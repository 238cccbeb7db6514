/**
 * Text from an input file that a report shows (review ids, field names): printable and short.
 * Import summaries go to a terminal, so a value that holds control, format (bidi), private-use,
 * unassigned or surrogate code points, or line separators is escaped as `\u{1b}`, and anything
 * longer than `maxChars` is cut with `…`. Plain short values are returned as they are.
 */

const UNSAFE = /[\p{C}\p{Zl}\p{Zp}]/u;
const UNSAFE_ALL = /[\p{C}\p{Zl}\p{Zp}]/gu;

export const DISPLAY_ID_CHARS = 64;
export const DISPLAY_REASON_CHARS = 200;

export function displayText(value: string, maxChars: number = DISPLAY_ID_CHARS): string {
  if (value.length <= maxChars && !UNSAFE.test(value)) return value;
  // Escape a bounded prefix only: the value may be megabytes long.
  const escaped = value.slice(0, maxChars + 1).replace(UNSAFE_ALL, (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`);
  if (escaped.length <= maxChars && value.length <= maxChars) return escaped;
  // Cut at a code point boundary, never inside an escape.
  let out = '';
  for (const piece of escaped.match(/\\u\{[0-9a-f]+\}|[\s\S]/gu) ?? []) {
    if (out.length + piece.length > maxChars) break;
    out += piece;
  }
  return `${out}…`;
}
