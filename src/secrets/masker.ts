/**
 * Masking of secret values in everything the runner writes: live output, log files,
 * stored events, failure messages, rendered configs and Slack messages.
 *
 * A Masker collects the values of a run's secrets and replaces each of them, and the
 * forms a value commonly takes when a program prints it, with `***`:
 *   - the value itself, and the well-formed UTF-8 text it becomes in a child's output (a
 *     lone surrogate turns into U+FFFD);
 *   - its standard base64 form (with and without `=` padding) and base64url form;
 *   - every percent-encoding of each of these forms: any characters escaped, upper- or
 *     lowercase hex, `+` for a space (`encodeURIComponent`, Python's `quote(v, safe='')`,
 *     form encoding, `encodeURI`): text with `%XX` in it is also searched percent-decoded
 *     (percent.ts);
 *   - its JSON-escaped form and the form Node's `util.inspect` quotes it in (`\x00`);
 *   - each line of a multi-line value (a private key printed line by line), and each part
 *     of a value cut at NUL bytes.
 *
 * Values shorter than {@link MIN_MASK_LENGTH} characters are not masked: masking `ab` or
 * `true` would blank out ordinary words everywhere while hiding nothing worth hiding.
 * A base64 form is only found where the secret was encoded on its own; a secret encoded
 * together with other text (e.g. `user:password` in a Basic auth header) is not.
 */
import { inspect } from 'node:util';
import { hasPercentEscape, percentDecodedView } from './percent.js';

/** The shortest value (or form of a value) the masker replaces. */
export const MIN_MASK_LENGTH = 4;

/** What a masked value is replaced with. */
export const MASK = '***';

/** Replaces known secret values (and their encodings) with `***`. */
export class Masker {
  private readonly values = new Set<string>();
  private readonly forms = new Set<string>();
  private pattern: RegExp | undefined;
  private dirty = false;

  /** Starts with the given values already known. */
  constructor(values: Iterable<string> = []) {
    for (const v of values) this.add(v);
  }

  /** Adds a value to mask from now on; values shorter than MIN_MASK_LENGTH are ignored. */
  add(value: string): void {
    if (typeof value !== 'string' || value.length < MIN_MASK_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    for (const form of formsOf(value)) {
      if (form.length >= MIN_MASK_LENGTH && !this.forms.has(form)) {
        this.forms.add(form);
        this.dirty = true;
      }
    }
  }

  /** Adds each value (see {@link add}). */
  addAll(values: Iterable<string>): void {
    for (const v of values) this.add(v);
  }

  /** How many distinct values are masked. */
  get size(): number {
    return this.values.size;
  }

  /** `text` with every known value and encoded form replaced by `***`. */
  mask(text: string): string {
    if (this.forms.size === 0 || typeof text !== 'string' || text.length < MIN_MASK_LENGTH) return text;
    const re = this.regexp();
    if (!hasPercentEscape(text)) {
      re.lastIndex = 0;
      return text.replace(re, MASK);
    }
    return replaceSpans(text, this.spans(text), MASK);
  }

  /**
   * For a piece of a long line whose rest is still to come: the masked part that no
   * secret can continue past, and the raw rest to put before the next piece. The rest is
   * at most as long as the longest form could be written (percent-encoded: three
   * characters each), so a secret straddling two pieces is masked whole.
   */
  splitPiece(text: string): [masked: string, rest: string] {
    if (this.forms.size === 0) return [text, ''];
    let longest = 0;
    for (const f of this.forms) longest = Math.max(longest, f.length);
    let cut = text.length - (3 * longest - 1);
    if (cut <= 0) return ['', text];
    const spans = this.spans(text);
    for (const [a, b] of spans) if (a < cut && cut < b) cut = b;
    const c = text.charCodeAt(cut - 1);
    if (c >= 0xd800 && c <= 0xdbff) cut--;
    return [replaceSpans(text.slice(0, cut), spans.filter(([, b]) => b <= cut), MASK), text.slice(cut)];
  }

  /**
   * A copy of `value` with every string inside it masked (object values and keys, array
   * items, recursively): for event `data`, step metadata and rendered configs.
   */
  maskDeep<T>(value: T): T {
    if (this.forms.size === 0) return value;
    return this.walk(value, new WeakSet()) as T;
  }

  /** True when `text` contains a known value or form (for tests and assertions). */
  leaks(text: string): boolean {
    if (this.forms.size === 0 || typeof text !== 'string') return false;
    if (hasPercentEscape(text)) return this.spans(text).length > 0;
    const re = this.regexp();
    re.lastIndex = 0;
    return re.test(text);
  }

  /** Where known forms occur in `text`, as written or percent-decoded (with and without `+` as a space); sorted, merged. */
  private spans(text: string): Array<[number, number]> {
    const re = this.regexp();
    const found: Array<[number, number]> = [];
    // exec, not matchAll: matchAll copies the (large) pattern on every call.
    const each = (s: string, at: (a: number, b: number) => [number, number]): void => {
      re.lastIndex = 0;
      for (let m = re.exec(s); m; m = re.exec(s)) found.push(at(m.index, m.index + m[0].length));
    };
    each(text, (a, b) => [a, b]);
    for (const plus of text.includes('+') ? [false, true] : [false]) {
      const view = percentDecodedView(text, plus);
      each(view.text, (a, b) => [view.start[a]!, view.end[b - 1]!]);
    }
    found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const merged: Array<[number, number]> = [];
    for (const s of found) {
      const last = merged[merged.length - 1];
      if (last && s[0] < last[1]) last[1] = Math.max(last[1], s[1]);
      else merged.push([s[0], s[1]]);
    }
    return merged;
  }

  private walk(v: unknown, seen: WeakSet<object>): unknown {
    if (typeof v === 'string') return this.mask(v);
    if (!v || typeof v !== 'object') return v;
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    if (Array.isArray(v)) return v.map((x) => this.walk(x, seen));
    if (v instanceof Date) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[this.mask(k)] = this.walk(x, seen);
    return out;
  }

  /** One alternation of every form, longest first so a value wins over its own substrings. */
  private regexp(): RegExp {
    if (!this.pattern || this.dirty) {
      this.pattern = new RegExp(longestFirst(this.forms).map(escapeRegExp).join('|'), 'g');
      this.dirty = false;
    }
    return this.pattern;
  }
}

/**
 * The literal forms of one value that get masked (some may be shorter than the minimum).
 * Percent-encodings other than these two common ones are found by decoding, not listed.
 */
export function formsOf(value: string): string[] {
  const forms = new Set<string>([value, wellFormed(value)]);
  const bytes = Buffer.from(value, 'utf8');
  const b64 = bytes.toString('base64');
  forms.add(b64);
  forms.add(b64.replace(/=+$/, ''));
  forms.add(bytes.toString('base64url'));
  if (/[\r\n\0]/.test(value)) {
    for (const part of value.split(/\r?\n|\0/)) {
      const t = part.trim();
      if (t.length >= MIN_MASK_LENGTH) forms.add(t);
    }
  }
  forms.add(encodeURIComponent(wellFormed(value)));
  // Form encoding writes spaces as `+`.
  forms.add(encodeURIComponent(wellFormed(value)).replace(/%20/g, '+'));
  forms.add(JSON.stringify(value).slice(1, -1));
  forms.add(inspect(value).slice(1, -1));
  return [...forms];
}

/** `s` as it reads after a round trip through UTF-8 (lone surrogates become U+FFFD). */
function wellFormed(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

function longestFirst(forms: Iterable<string>): string[] {
  return [...forms].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}

/** `text` with each span replaced by `mask`. */
function replaceSpans(text: string, spans: Array<[number, number]>, mask: string): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const [a, b] of spans) {
    out += text.slice(at, a) + mask;
    at = b;
  }
  return out + text.slice(at);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
