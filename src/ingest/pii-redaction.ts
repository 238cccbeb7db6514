import { isSupportedCountry, searchPhoneNumbersInText, type CountryCode } from 'libphonenumber-js/max';

/**
 * REDACT_PII: masks e-mail addresses and phone numbers in a review's title and text before it is
 * enqueued, so neither Redis, nor the results (explanations quote phrases), nor the dashboard ever
 * hold them.
 *
 * Matching runs on the NFKC form of the text, so full-width and other compatibility forms
 * (`ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ`, `＋４４ ２０ ７９４６ ０９５８`) are found like their ASCII
 * forms; the output is the original text with only the matched spans replaced by a mask (text
 * without PII comes back unchanged, byte for byte).
 *
 * Phones come from four sources, each candidate then checked against the same false-positive
 * rules (digit count, dates, a preceding "order", "invoice", "SKU", "#"…):
 * - libphonenumber-js (`searchPhoneNumbersInText`, full metadata): numbers valid for their country,
 *   international (`+7 (800) 555-35-35`) anywhere, national ones (`98765 43210`) of the phone region
 *   (the review locale's region, e.g. en-IN, else PII_PHONE_REGION);
 * - shapes, for what reviews write without a known region: `+CC` groups, `(555) 123-4567`,
 *   `555-123-4567`, national numbers with a trunk 0 (`06 12 34 56 78`, `07700 900123`);
 * - any phone-length number right after a cue word ("phone", "mob", "call", "WhatsApp"…);
 * - WhatsApp links (`wa.me/919876543210`, `api.whatsapp.com/send?phone=…`).
 * Prices, quantities, dates, times, years, order and model numbers are left alone.
 */

export const EMAIL_MASK = '[email]';
export const PHONE_MASK = '[phone]';

export interface PiiOptions {
  /** ISO 3166-1 alpha-2 region whose national phone numbers are recognised without `+` (PII_PHONE_REGION). */
  region?: CountryCode | undefined;
}

const EMAIL =
  /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]{1,64}@[\p{L}\p{N}-]{1,63}(?:\.[\p{L}\p{N}-]{1,63})*\.\p{L}{2,24}(?![\p{L}\p{N}-])/gu;

// Characters that may not touch a phone number: it is part of a word, a code, an amount or a date.
const BEFORE = String.raw`(?<![\p{L}\p{N}_#@$€£¥₹.,/\\+-])`;
const AFTER = String.raw`(?![\p{L}\p{N}_%€$£¥₹@]|[.,:/-]\d)`;

const SHAPES = [
  // International: +CC or 00CC, then groups separated by spaces, dots or hyphens, or an area code
  // in parentheses: +44 20 7946 0958, +1 (555) 123-4567, +33 6 12 34 56 78, 0049 30 1234567.
  String.raw`(?:\+|00)[1-9]\d{0,2}(?:[ .-]?(?:\(0\)|\(\d{1,5}\)))?(?:[ .-]?\d{1,5}){1,6}`,
  // Area code in parentheses: (555) 123-4567, (020) 7946 0958.
  String.raw`\(\d{2,5}\)[ .-]?\d{2,5}(?:[ .-]?\d{2,5}){0,3}`,
  // North American: 555-123-4567, 555.123.4567, 1-800-555-0199 (one kind of separator).
  String.raw`(?:1([ .-]))?\d{3}([ .-])\d{3}\2\d{4}`,
  // National numbers with a trunk 0, one kind of separator or none: 06 12 34 56 78,
  // 020 7946 0958, 07700 900123, 030-12345678, 0612345678.
  String.raw`0[1-9]\d{0,4}(?:([ .\/-])\d{2,8}(?:\3\d{2,8}){0,3}|\d{5,9})`,
];
const PHONE = new RegExp(`${BEFORE}(?:${SHAPES.join('|')})${AFTER}`, 'gu');

// After one of these words, any digit group of phone length is a phone: "call 555 0199".
const PHONE_CUE =
  /(?:phone|tel(?:ephone)?|mob(?:ile)?|cell|call(?: me)?(?: on| at)?|ring(?: me)?(?: on)?|text(?: me)?(?: on| at)?|whats ?app|sms|fax|ph\.?|reach me(?: on| at)?|contact(?: me)?(?: on| at)?|number(?: is)?)\s*[:.]?\s*$/iu;
const CUED = new RegExp(`${BEFORE}\\+?\\(?\\d[\\d ().-]{4,18}\\d${AFTER}`, 'gu');
// A number right after one of these is an identifier, not a phone (unless it starts with +).
const ID_CUE =
  /(?:order|invoice|tracking|isbn|sku|serial|model|ref(?:erence)?|item|part|ticket|case|article|product|account|customer|booking|confirmation|rs\.?|inr|usd|eur)\s*(?:no\.?|nr\.?|num(?:ber)?|id|code)?\s*[:#]?\s*$/iu;
// Dates, times, year ranges, number ranges and IPv4 addresses that could pass for a phone.
const NOT_PHONE = [
  /^\d{4}[ ./-]\d{1,2}[ ./-]\d{1,2}$/u,
  /^\d{1,2}[ ./-]\d{1,2}[ ./-]\d{2,4}$/u,
  /^(?:19|20)\d{2}[ -](?:19|20)\d{2}$/u,
  /^\d+ +[-–—] +\d+$/u,
  /^\d{1,3}(?:\.\d{1,3}){3}$/u,
];
// BEFORE and AFTER (plus `=`) for the library's matches, which it finds inside codes and amounts.
const TOUCHING_BEFORE = /[\p{L}\p{N}_#@$€£¥₹.,/\\+=-]$/u;
const TOUCHING_AFTER = /^(?:[\p{L}\p{N}_%€$£¥₹@=]|[.,:/-]\d)/u;
// Inside a link or path (`http://212.58.226.30/…`, `?qid=1125546516`), digits are not a phone.
const IN_LINK = /(?:\/\/|www\.|[=?&/])\S*$/u;
// Bounds on libphonenumber-js per text (its matcher costs ~40 µs a number found, and without a bound
// up to 150 ms on 20,000 characters of `1.2.3.…`): at most this many invalid candidates tried, and
// this many numbers taken. Past them the shapes and cues still mask what they recognise.
const MATCHER_MAX_TRIES = 32;
const MATCHER_MAX_FOUND = 64;
// WhatsApp click-to-chat links carry the number without `+`.
const WHATSAPP_LINK = /(?:wa\.me\/|whatsapp\.com\/send\/?\?phone=)\+?(\d{7,15})(?!\d)/giu;

function digitCount(value: string): number {
  let n = 0;
  for (const ch of value) if (ch >= '0' && ch <= '9') n += 1;
  return n;
}

function isPhone(candidate: string, before: string, cued: boolean): boolean {
  const digits = digitCount(candidate);
  if (digits < (cued ? 6 : 7) || digits > 15) return false;
  if (NOT_PHONE.some((re) => re.test(candidate.trim()))) return false;
  if (!candidate.startsWith('+') && ID_CUE.test(before)) return false;
  return true;
}

/** A half-open span [start, end) of the matched text. */
type Span = [number, number];

/**
 * The NFKC form of `text` for matching, and for each of its UTF-16 units the span of `text` it came
 * from. Normalised one code point at a time (cached), so every unit maps back and the cost stays
 * linear: compatibility forms (full-width `＠` and digits, `①`, `ﬁ`, `℡`) map as in NFKC;
 * compositions across code points (a letter and a combining accent) are left as they are, which
 * no phone or e-mail pattern needs. Where NFKC changes nothing (most reviews) the map is the
 * identity.
 */
interface NormalizedView {
  text: string;
  toOriginal(span: Span): Span;
}

const NFKC_CACHE = new Map<string, string>();
const NFKC_CACHE_MAX = 4096;

function nfkcOf(ch: string): string {
  let normalized = NFKC_CACHE.get(ch);
  if (normalized === undefined) {
    normalized = ch.normalize('NFKC');
    if (NFKC_CACHE.size >= NFKC_CACHE_MAX) NFKC_CACHE.clear();
    NFKC_CACHE.set(ch, normalized);
  }
  return normalized;
}

function normalizedView(text: string): NormalizedView {
  if (text.normalize('NFKC') === text) return { text, toOriginal: (span) => span };
  const parts: string[] = [];
  const from: number[] = [];
  const to: number[] = [];
  for (let i = 0; i < text.length;) {
    const code = text.charCodeAt(i);
    const width = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? 2 : 1;
    const normalized = code < 0x80 ? text[i]! : nfkcOf(text.slice(i, i + width));
    parts.push(normalized);
    for (let k = 0; k < normalized.length; k++) {
      from.push(i);
      to.push(i + width);
    }
    i += width;
  }
  return { text: parts.join(''), toOriginal: ([start, end]) => [from[start]!, to[end - 1]!] };
}

function emailSpans(text: string): Span[] {
  return [...text.matchAll(EMAIL)].map((m) => [m.index, m.index + m[0].length]);
}

function phoneSpans(text: string, region: CountryCode | undefined): Span[] {
  const spans: Span[] = [];
  const context = (start: number) => text.slice(Math.max(0, start - 40), start);
  for (const m of text.matchAll(PHONE))
    if (isPhone(m[0], context(m.index), false)) spans.push([m.index, m.index + m[0].length]);
  const cued: Span[] = [];
  for (const m of text.matchAll(CUED)) {
    if (PHONE_CUE.test(context(m.index)) && isPhone(m[0], context(m.index), true))
      cued.push([m.index, m.index + m[0].length]);
  }
  // A cued run never extends a number a shape found ("call 555-123-4567 2 times").
  spans.push(...withoutOverlaps(cued, spans));
  for (const m of text.matchAll(WHATSAPP_LINK)) {
    const start = m.index + m[0].length - m[1]!.length;
    spans.push([start, start + m[1]!.length]);
  }
  // maxTries is PhoneNumberMatcher's own option (documented in its source, missing from the typings).
  const matcherOptions = { ...(region ? { defaultCountry: region } : {}), maxTries: MATCHER_MAX_TRIES } as {
    defaultCountry?: CountryCode;
  };
  let taken = 0;
  for (const found of searchPhoneNumbersInText(text, matcherOptions)) {
    if (++taken > MATCHER_MAX_FOUND) break;
    let start = found.startsAt;
    const end = found.endsAt;
    // The matcher keeps an opening parenthesis whose closing one it left out: "(800.537.4941)".
    if (text[start] === '(' && !text.slice(start, end).includes(')')) start += 1;
    const before = context(start);
    if (TOUCHING_BEFORE.test(before) || TOUCHING_AFTER.test(text.slice(end, end + 2)) || IN_LINK.test(before)) continue;
    if (isPhone(text.slice(start, end), before, false)) spans.push([start, end]);
  }
  return spans;
}

/** Spans sorted and merged where they overlap or touch. */
function merge(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const out: Span[] = [];
  for (const span of sorted) {
    const last = out.at(-1);
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else out.push([span[0], span[1]]);
  }
  return out;
}

/** The spans of `candidates` that overlap none of `blockers` (both in text order: one sweep). */
function withoutOverlaps(candidates: Span[], blockers: Span[]): Span[] {
  const out: Span[] = [];
  let b = 0;
  for (const span of candidates) {
    while (b < blockers.length && blockers[b]![1] <= span[0]) b += 1;
    if (b < blockers.length && blockers[b]![0] < span[1]) continue;
    out.push(span);
  }
  return out;
}

// Digits of any script, @ and its full-width and small forms: text without any has nothing to mask.
const MAYBE_PII = /[\p{Nd}@＠﹫]/u;

/**
 * Masks e-mail addresses as [email], then phone numbers as [phone]. Text without either is
 * returned unchanged.
 */
export function redactPii(text: string, options: PiiOptions = {}): string {
  if (!MAYBE_PII.test(text)) return text;
  const view = normalizedView(text);
  const emails = merge(emailSpans(view.text));
  // A phone has at least 6 digits (after a cue; 7 otherwise): most reviews skip the phone scan.
  const phones = digitCount(view.text) < 6 ? [] : withoutOverlaps(merge(phoneSpans(view.text, options.region)), emails);
  const masks = [
    ...emails.map((s) => ({ span: view.toOriginal(s), mask: EMAIL_MASK })),
    ...phones.map((s) => ({ span: view.toOriginal(s), mask: PHONE_MASK })),
  ];
  if (masks.length === 0) return text;
  masks.sort((a, b) => a.span[0] - b.span[0]);
  let out = '';
  let at = 0;
  for (const { span, mask } of masks) {
    if (span[0] < at) continue; // cannot happen after merging; kept as a guard
    out += text.slice(at, span[0]) + mask;
    at = span[1];
  }
  return out + text.slice(at);
}

/** The region of a BCP 47 locale (`en-IN` → IN, `hi-Latn-IN` → IN), if libphonenumber-js knows it. */
export function localeRegion(locale: string | undefined): CountryCode | undefined {
  if (!locale) return undefined;
  const region = locale
    .split(/[-_]/)
    .slice(1)
    .find((part) => /^[A-Za-z]{2}$/.test(part))
    ?.toUpperCase();
  return region !== undefined && isSupportedCountry(region) ? region : undefined;
}

/**
 * The review with its title and text redacted (a copy; other fields untouched). National phone
 * numbers are those of the review locale's region, else of `options.region`. A mask can be one
 * character longer than what it replaces (`a@b.co`): the result is cut to `maxChars`, so that a
 * review valid before stays valid after.
 */
export function redactReviewPii<T extends { text: string; title?: string | undefined; locale?: string | undefined }>(
  review: T,
  maxChars = Number.POSITIVE_INFINITY,
  options: PiiOptions = {},
): T {
  const piiOptions = { region: localeRegion(review.locale) ?? options.region };
  const text = redactPii(review.text, piiOptions).slice(0, maxChars);
  const title = review.title === undefined ? undefined : redactPii(review.title, piiOptions).slice(0, maxChars);
  if (text === review.text && title === review.title) return review;
  return title === undefined ? { ...review, text } : { ...review, text, title };
}
