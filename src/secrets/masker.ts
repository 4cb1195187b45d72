/**
 * Masking of secret values in everything the runner writes: live output, log files,
 * stored events, failure messages, rendered configs and Slack messages.
 *
 * A Masker collects the values resolved during a run and replaces each of them, and the
 * forms a value commonly takes when a program prints it, with `***`:
 *   - the value itself,
 *   - its standard base64 form (with and without `=` padding) and base64url form,
 *   - its URL-encoded form (`encodeURIComponent`),
 *   - its JSON-escaped form (a value with quotes, backslashes or newlines inside a JSON string),
 *   - each line of a multi-line value (a private key printed line by line).
 *
 * Values shorter than {@link MIN_MASK_LENGTH} characters are not masked: masking `ab` or
 * `true` would blank out ordinary words everywhere while hiding nothing worth hiding.
 * A base64 form is only found where the secret was encoded on its own; a secret encoded
 * together with other text (e.g. `user:password` in a Basic auth header) is not.
 */

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

  /** How many distinct values are masked. */
  get size(): number {
    return this.values.size;
  }

  /** `text` with every known value and encoded form replaced by `***`. */
  mask(text: string): string {
    if (this.forms.size === 0 || typeof text !== 'string' || text.length < MIN_MASK_LENGTH) return text;
    const re = this.regexp();
    re.lastIndex = 0;
    return text.replace(re, MASK);
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
    if (this.forms.size === 0) return false;
    const re = this.regexp();
    re.lastIndex = 0;
    return re.test(text);
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
      const sorted = [...this.forms].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
      this.pattern = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
      this.dirty = false;
    }
    return this.pattern;
  }
}

/** The forms of one value that get masked (some may be shorter than the minimum). */
export function formsOf(value: string): string[] {
  const forms = new Set<string>([value]);
  const b64 = Buffer.from(value, 'utf8').toString('base64');
  forms.add(b64);
  forms.add(b64.replace(/=+$/, ''));
  forms.add(Buffer.from(value, 'utf8').toString('base64url'));
  forms.add(encodeURIComponent(value));
  // `encodeURIComponent` leaves !'()* alone; form encoding writes spaces as `+`.
  forms.add(encodeURIComponent(value).replace(/%20/g, '+'));
  forms.add(JSON.stringify(value).slice(1, -1));
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r?\n/)) {
      const t = line.trim();
      if (t.length >= MIN_MASK_LENGTH) forms.add(t);
    }
  }
  return [...forms];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
