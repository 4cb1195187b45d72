/**
 * Percent-decoding for the masker: a text with `%XX` escapes in it is decoded into a view
 * in which every secret can be looked for literally, whatever was escaped (all of it,
 * Python's `quote(v, safe='')`, `encodeURIComponent`'s set, a few characters) and in
 * whichever hex case; each character of the view knows the span of the original text it
 * came from, so a match is masked in the original.
 */

/**
 * A decoded text and, for each of its UTF-16 code units, the span `[start, end)` of the
 * original it came from. `start` and `end` are scratch buffers shared by every call (the
 * masker decodes one line at a time): read them before decoding the next text.
 */
export interface DecodedView {
  text: string;
  start: Int32Array;
  end: Int32Array;
}

/** Whether `text` holds a percent-escape at all (the masker's fast path skips decoding otherwise). */
export function hasPercentEscape(text: string): boolean {
  return ESCAPE.test(text);
}

const ESCAPE = /%[0-9A-Fa-f]{2}/;
const PERCENT = /%/g;
const PERCENT_OR_PLUS = /[%+]/g;
let scratch = { start: new Int32Array(1024), end: new Int32Array(1024) };

/**
 * `text` with each `%XX` sequence that spells a UTF-8 character decoded (an escape that
 * does not is kept as written) and, when `plusIsSpace`, `+` read as a space (form encoding).
 */
export function percentDecodedView(text: string, plusIsSpace: boolean): DecodedView {
  // The view is never longer than the text.
  if (scratch.start.length < text.length) scratch = { start: new Int32Array(text.length * 2), end: new Int32Array(text.length * 2) };
  const { start, end } = scratch;
  const parts: string[] = [];
  let n = 0;
  const copy = (from: number, to: number): void => {
    if (to <= from) return;
    parts.push(text.slice(from, to));
    for (let k = from; k < to; k++, n++) {
      start[n] = k;
      end[n] = k + 1;
    }
  };
  let i = 0;
  const special = plusIsSpace ? PERCENT_OR_PLUS : PERCENT;
  while (i < text.length) {
    special.lastIndex = i;
    const hit = special.exec(text);
    if (!hit) break;
    const at = hit.index;
    copy(i, at);
    const decoded = text[at] === '%' ? utf8At(text, at) : { char: ' ', next: at + 1 };
    if (decoded) {
      parts.push(decoded.char);
      for (let k = 0; k < decoded.char.length; k++, n++) {
        start[n] = at;
        end[n] = decoded.next;
      }
      i = decoded.next;
    } else {
      copy(at, at + 1);
      i = at + 1;
    }
  }
  copy(i, text.length);
  return { text: parts.join(''), start, end };
}

/** The character spelled by the escapes starting at `i` (one to four `%XX`), if they form valid UTF-8. */
function utf8At(text: string, i: number): { char: string; next: number } | undefined {
  const first = byteAt(text, i);
  if (first === undefined) return undefined;
  const n = first < 0x80 ? 1 : first >= 0xc2 && first <= 0xdf ? 2 : first >= 0xe0 && first <= 0xef ? 3 : first >= 0xf0 && first <= 0xf4 ? 4 : 0;
  if (n === 0) return undefined;
  let cp = n === 1 ? first : n === 2 ? first & 0x1f : n === 3 ? first & 0x0f : first & 0x07;
  for (let k = 1; k < n; k++) {
    const b = byteAt(text, i + 3 * k);
    if (b === undefined || b < 0x80 || b > 0xbf) return undefined;
    cp = (cp << 6) | (b & 0x3f);
  }
  // Overlong forms, encoded surrogates and code points past U+10FFFF are not UTF-8.
  if ((n === 3 && cp < 0x800) || (n === 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
  return { char: String.fromCodePoint(cp), next: i + 3 * n };
}

function byteAt(text: string, i: number): number | undefined {
  if (text.charCodeAt(i) !== 0x25 || i + 2 >= text.length) return undefined;
  const h = hex(text.charCodeAt(i + 1));
  const l = hex(text.charCodeAt(i + 2));
  return h < 0 || l < 0 ? undefined : h * 16 + l;
}

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}
