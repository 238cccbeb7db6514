/**
 * REDACT_PII: masks e-mail addresses and phone numbers in a review's title and text before it is
 * enqueued, so neither Redis, nor the results (explanations quote phrases), nor the dashboard ever
 * hold them. Phones are recognised by shape, tuned to mask what people write in reviews
 * ("call me on +44 20 7946 0958", "(555) 123-4567", "06 12 34 56 78") and to leave alone the
 * numbers reviews are full of: prices, quantities, dates, times, years, order and model numbers.
 * A bare run of digits is masked only when it looks like a national number (leading 0) or follows
 * a word like "phone", "call" or "WhatsApp".
 */

export const EMAIL_MASK = '[email]';
export const PHONE_MASK = '[phone]';

const EMAIL = /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]{1,64}@[\p{L}\p{N}-]{1,63}(?:\.[\p{L}\p{N}-]{1,63})*\.\p{L}{2,24}(?![\p{L}\p{N}-])/gu;

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
const PHONE_CUE = /(?:phone|tel(?:ephone)?|mobile|cell|call(?: me)?(?: on| at)?|ring(?: me)?(?: on)?|text(?: me)?(?: on| at)?|whats ?app|sms|fax|ph\.?|reach me(?: on| at)?|contact(?: me)?(?: on| at)?|number(?: is)?)\s*[:.]?\s*$/iu;
const CUED = new RegExp(`${BEFORE}\\+?\\(?\\d[\\d ().-]{4,18}\\d${AFTER}`, 'gu');
// A number right after one of these is an identifier, not a phone (unless it starts with +).
const ID_CUE = /(?:order|invoice|tracking|isbn|sku|serial|model|ref(?:erence)?|item|part|ticket|case|article|product|account|customer|booking|confirmation)\s*(?:no\.?|nr\.?|num(?:ber)?|id|code)?\s*[:#]?\s*$/iu;
// Dates, times and year ranges that a shape above could take for a phone.
const NOT_PHONE = [/^\d{4}[ .\/-]\d{1,2}[ .\/-]\d{1,2}$/u, /^\d{1,2}[ .\/-]\d{1,2}[ .\/-]\d{2,4}$/u, /^(?:19|20)\d{2}[ -](?:19|20)\d{2}$/u];

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

/** Masks every e-mail address in `text` as [email]. */
export function redactEmails(text: string): string {
  return text.replace(EMAIL, EMAIL_MASK);
}

/** Masks every phone number in `text` as [phone]. */
export function redactPhones(text: string): string {
  const shaped = text.replace(PHONE, (match: string, ...rest: unknown[]) => {
    const offset = rest.find((v) => typeof v === 'number') as number;
    const before = text.slice(Math.max(0, offset - 40), offset);
    return isPhone(match, before, false) ? PHONE_MASK : match;
  });
  return shaped.replace(CUED, (match: string, ...rest: unknown[]) => {
    const offset = rest.find((v) => typeof v === 'number') as number;
    const before = shaped.slice(Math.max(0, offset - 40), offset);
    return PHONE_CUE.test(before) && isPhone(match, before, true) ? PHONE_MASK : match;
  });
}

/** Masks e-mail addresses, then phone numbers. Text without either is returned unchanged. */
export function redactPii(text: string): string {
  if (!/\d|@/u.test(text)) return text;
  return redactPhones(redactEmails(text));
}

/**
 * The review with its title and text redacted (a copy; other fields untouched). A mask can be one
 * character longer than what it replaces (`a@b.co`): the result is cut to `maxChars`, so that a
 * review valid before stays valid after.
 */
export function redactReviewPii<T extends { text: string; title?: string | undefined }>(review: T, maxChars = Number.POSITIVE_INFINITY): T {
  const text = redactPii(review.text).slice(0, maxChars);
  const title = review.title === undefined ? undefined : redactPii(review.title).slice(0, maxChars);
  if (text === review.text && title === review.title) return review;
  return title === undefined ? { ...review, text } : { ...review, text, title };
}
