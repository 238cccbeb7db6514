import secureJson from 'secure-json-parse';

/**
 * Shape limits of a JSON body, checked while its text streams in, before any value is built:
 * a hostile body (millions of keys, a 7-million-deep array) is refused after a linear scan of
 * at most the text that crosses a limit, never handed to JSON.parse or a validator.
 */
export interface JsonLimits {
  /** Deepest nesting of arrays and objects; the root container is depth 1. */
  maxDepth: number;
  /** Most keys in one object. */
  maxKeys: number;
  /** Most values in the whole body (every container, key's value and element; an upper bound). */
  maxValues: number;
  /** When the root is an array: most elements. */
  maxItems: number;
  /** Longest element of a root array, or root that is not an array, in characters of JSON text. */
  maxItemChars: number;
}

export type JsonLimitKind = 'depth' | 'keys' | 'values' | 'items' | 'itemSize' | 'syntax';

/** A body refused by the guard: which limit (or a syntax error), where, and the limit's value. */
export class JsonGuardError extends Error {
  readonly kind: JsonLimitKind;
  /** `(root)`, `[3]`, `[3].metadata`: where the limit was crossed. */
  readonly path: string;
  readonly limit: number | undefined;

  constructor(kind: JsonLimitKind, path: string, message: string, limit?: number) {
    super(message);
    this.name = 'JsonGuardError';
    this.kind = kind;
    this.path = path;
    this.limit = limit;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const KEY_IN_PATH = 64;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * A streaming guard over decoded JSON text: `write` each piece as it arrives, `end` for the
 * value. It tracks only string boundaries, nesting and counts (a linear scan; string contents
 * are skipped with indexOf), and parses each element of a root array on its own as soon as it is
 * complete (secure-json-parse: JSON.parse that refuses `__proto__` and `constructor.prototype`),
 * so no single JSON.parse call sees more than `maxItemChars`. JSON.parse checks the grammar of
 * each element; the guard checks the root array's brackets and commas.
 *
 * Why not a streaming JSON library or JSON.parse on the whole body: neither bounds depth or keys,
 * and both held the event loop for seconds on one hostile body (measured: docs/security.md,
 * "Hostile input"; `npm run bench:hostile`).
 */
export class JsonGuard {
  private readonly limits: JsonLimits;
  private depth = 0;
  private values = 0;
  private inString = false;
  private escapePending = false;
  /** Per depth: 1 for an object, 0 for an array. */
  private readonly isObject: Uint8Array;
  /** Per depth: keys of the object, or index of the current element of the array. */
  private readonly counts: Int32Array;
  /** Per depth: the last key seen (for error paths; undefined if long or split across pieces). */
  private readonly keys: (string | undefined)[];
  private lastString: string | undefined;
  private stringStart = -1;
  /** 'none' until the first non-space character; then whether the root is an array. */
  private root: 'none' | 'array' | 'single' = 'none';
  private rootClosed = false;
  private readonly items: unknown[] = [];
  /** Text of the current item so far (earlier pieces), and where it starts in the current piece. */
  private itemPieces: string[] = [];
  private itemChars = 0;
  private itemStart = 0;
  private itemHasText = false;

  constructor(limits: JsonLimits) {
    this.limits = limits;
    this.isObject = new Uint8Array(limits.maxDepth + 2);
    this.counts = new Int32Array(limits.maxDepth + 2);
    this.keys = new Array<string | undefined>(limits.maxDepth + 2);
  }

  /** Where the scan is: `[3].metadata` (the root array's element, then keys and indexes). */
  private path(depth = this.depth): string {
    let out = '';
    for (let d = 1; d <= depth; d++) {
      if (this.isObject[d] === 1) {
        const key = this.keys[d];
        if (key === undefined) out += out === '' ? '?' : '.?';
        else out += out === '' ? key : `.${key}`;
      } else {
        out += `[${this.counts[d]}]`;
      }
    }
    return out === '' ? '(root)' : out;
  }

  private fail(kind: JsonLimitKind, message: string, limit?: number, depth = this.depth): never {
    throw new JsonGuardError(kind, this.path(depth), message, limit);
  }

  /** Scans one piece of the body's text (any split, even inside a string or an escape). */
  write(text: string): void {
    const n = text.length;
    let i = 0;
    this.itemStart = 0;
    if (this.inString) this.stringStart = -1; // the string began in an earlier piece: no key for paths
    while (i < n) {
      if (this.inString) {
        if (this.escapePending) {
          this.escapePending = false;
          i++;
          continue;
        }
        const quote = text.indexOf('"', i);
        if (quote === -1) {
          let run = 0;
          for (let j = n - 1; j >= i && text.charCodeAt(j) === BACKSLASH; j--) run++;
          this.escapePending = run % 2 === 1;
          this.stringStart = -1; // the string spans pieces: no key for paths
          break;
        }
        let run = 0;
        for (let j = quote - 1; j >= i && text.charCodeAt(j) === BACKSLASH; j--) run++;
        i = quote + 1;
        if (run % 2 === 1) continue; // an escaped quote
        this.inString = false;
        if (this.isObject[this.depth] === 1) {
          this.lastString =
            this.stringStart >= 0 && quote - this.stringStart <= KEY_IN_PATH
              ? text.slice(this.stringStart, quote)
              : undefined;
        }
        continue;
      }
      const c = text.charCodeAt(i);
      if (isSpace(c)) {
        i++;
        continue;
      }
      if (this.rootClosed) this.fail('syntax', 'unexpected text after the JSON value', undefined, 0);
      if (this.root === 'none') this.root = c === OPEN_BRACKET ? 'array' : 'single';
      else if (this.root === 'array' && this.depth === 1 && c !== COMMA && c !== CLOSE_BRACKET) this.itemHasText = true;
      switch (c) {
        case QUOTE:
          this.inString = true;
          this.stringStart = i + 1;
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET: {
          const depth = ++this.depth;
          if (depth > this.limits.maxDepth)
            this.fail('depth', `nested deeper than ${this.limits.maxDepth} levels`, this.limits.maxDepth, depth - 1);
          this.countValue();
          this.isObject[depth] = c === OPEN_BRACE ? 1 : 0;
          this.counts[depth] = 0;
          this.keys[depth] = undefined;
          if (depth === 1 && this.root === 'array') {
            this.itemStart = i + 1;
            this.itemPieces = [];
            this.itemChars = 0;
          }
          break;
        }
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          if (this.depth === 0) this.fail('syntax', `unexpected ${String.fromCharCode(c)}`);
          if (this.depth === 1 && this.root === 'array') {
            if (c !== CLOSE_BRACKET) this.fail('syntax', 'the array is closed with }');
            this.endItem(text, i, true);
            this.rootClosed = true;
          }
          this.depth--;
          break;
        case COLON:
          if (this.isObject[this.depth] === 1) {
            const keys = (this.counts[this.depth]! += 1);
            this.keys[this.depth] = this.lastString;
            if (keys > this.limits.maxKeys)
              this.fail(
                'keys',
                `an object with more than ${this.limits.maxKeys} keys`,
                this.limits.maxKeys,
                this.depth - 1,
              );
          }
          break;
        case COMMA:
          this.countValue();
          if (this.isObject[this.depth] === 0 && this.depth > 0) {
            this.counts[this.depth]! += 1;
            if (this.depth === 1 && this.root === 'array') {
              this.endItem(text, i, false);
              if (this.counts[1]! >= this.limits.maxItems)
                this.fail('items', `more than ${this.limits.maxItems} items`, this.limits.maxItems, 0);
            }
          }
          break;
        default:
          break;
      }
      i++;
    }
    this.keepItemText(text, n);
  }

  private countValue(): void {
    if (++this.values > this.limits.maxValues)
      this.fail('values', `more than ${this.limits.maxValues} values`, this.limits.maxValues);
  }

  /** Keeps the current item's text of this piece (from itemStart to `end`) and checks its size. */
  private keepItemText(text: string, end: number): void {
    const collecting = this.root === 'single' || (this.root === 'array' && this.depth >= 1 && !this.rootClosed);
    if (!collecting || end <= this.itemStart) return;
    const piece = this.itemStart === 0 && end === text.length ? text : text.slice(this.itemStart, end);
    this.itemChars += piece.length;
    this.itemPieces.push(piece);
    this.itemStart = end;
    if (this.itemChars > this.limits.maxItemChars) {
      const where = this.root === 'array' ? `[${this.counts[1]}]` : '(root)';
      throw new JsonGuardError(
        'itemSize',
        where,
        `over ${this.limits.maxItemChars} characters of JSON`,
        this.limits.maxItemChars,
      );
    }
  }

  /** An element of the root array ends at `end` (a comma or the closing bracket): parse it. */
  private endItem(text: string, end: number, closing: boolean): void {
    this.keepItemText(text, end);
    const index = closing ? this.counts[1]! : this.counts[1]! - 1;
    const hadText = this.itemHasText;
    const pieces = this.itemPieces;
    this.itemPieces = [];
    this.itemChars = 0;
    this.itemStart = end + 1;
    this.itemHasText = false;
    if (!hadText) {
      if (closing && index === 0) return; // []
      throw new JsonGuardError('syntax', `[${index}]`, 'an empty array element (two commas, or a comma before ])');
    }
    this.items.push(parseText(pieces.length === 1 ? pieces[0]! : pieces.join(''), `[${index}]`));
  }

  /** The whole body is in: the parsed value (a root array's elements were parsed as they ended). */
  end(): unknown {
    if (this.root === 'none') throw new JsonGuardError('syntax', '(root)', 'the body is empty');
    if (this.root === 'array') {
      if (!this.rootClosed) throw new JsonGuardError('syntax', this.path(), 'unexpected end of the JSON text');
      return this.items;
    }
    const text = this.itemPieces.join('');
    this.itemPieces = [];
    return parseText(text, '(root)');
  }
}

function parseText(text: string, path: string): unknown {
  try {
    return secureJson.parse(text, null, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    throw new JsonGuardError('syntax', path, `not valid JSON: ${(err as Error).message}`);
  }
}
