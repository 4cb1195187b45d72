/**
 * A fast path for the plain YAML most pipeline files are: block mappings and sequences
 * indented with spaces, one-line plain and quoted scalars, one-line flow collections, and
 * comments. It builds the same value the `yaml` library's `toJS` builds (YAML 1.2 core
 * schema), several times faster and without a document tree, which is what makes a cold
 * check of a file with tens of thousands of assets affordable.
 *
 * It gives up (returns undefined) at the first thing outside that subset: anchors,
 * aliases, tags, block scalars, multi-line scalars or flow collections, complex or
 * duplicate keys, merge keys, tabs, CRs, directives and document markers, and anything
 * malformed. The caller then parses with the `yaml` library, which also reports errors, so
 * a file's value and messages never depend on which path read it.
 *
 * Alongside the value it records where the top-level sections, their entries and items
 * start (two levels deep), which is what a valid file's positions are needed for.
 */

/** Where a node starts: its key (for a mapping entry) and its value. */
export interface NodeStart {
  key?: number;
  node: number;
}

/** A fast parse: the value and the offsets of the nodes one and two levels deep (`a`, `a\0b`). */
export interface FastParse {
  value: unknown;
  starts: Map<string, NodeStart>;
}

class GiveUp extends Error {}
const giveUp = (): never => {
  throw new GiveUp();
};

interface Line {
  /** Offset of the line's first character and of its first non-space one, and its end. */
  start: number;
  content: number;
  end: number;
  indent: number;
}

/** The value of `text` when it is in the subset above, else undefined. */
export function fastParseYaml(text: string): FastParse | undefined {
  if (/[\t\r\ufeff]|^(?:---|\.\.\.|%)/m.test(text)) return undefined;
  try {
    return new FastParser(text).parse();
  } catch (err) {
    if (err instanceof GiveUp) return undefined;
    throw err;
  }
}

class FastParser {
  private readonly lines: Line[] = [];
  private readonly starts = new Map<string, NodeStart>();

  constructor(private readonly text: string) {
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      let c = start;
      while (c < end && text.charCodeAt(c) === 32) c++;
      // Blank and comment-only lines carry no structure.
      if (c < end && text.charCodeAt(c) !== 35) this.lines.push({ start, content: c, end, indent: c - start });
      start = end + 1;
    }
  }

  parse(): FastParse {
    if (this.lines.length === 0) return { value: null, starts: this.starts };
    const first = this.lines[0]!;
    if (first.indent !== 0) giveUp();
    const [value, next] = this.block(0, 0, first.content, []);
    if (next < this.lines.length) giveUp();
    return { value, starts: this.starts };
  }

  /** A block node whose first line is `i`, starting at offset `at` of it, at indentation `indent`. */
  private block(i: number, indent: number, at: number, path: string[]): [unknown, number] {
    const line = this.lines[i]!;
    if (this.isDash(at, line.end)) return this.sequence(i, at - line.start, path);
    return this.mapping(i, indent, at, path);
  }

  private isDash(at: number, end: number): boolean {
    return this.text.charCodeAt(at) === 45 && (at + 1 === end || this.text.charCodeAt(at + 1) === 32);
  }

  private mapping(i: number, indent: number, at: number, path: string[]): [Record<string, unknown>, number] {
    const out: Record<string, unknown> = {};
    let first = true;
    while (i < this.lines.length) {
      const line = this.lines[i]!;
      if (!first) {
        if (line.indent < indent) break;
        if (line.indent > indent || this.isDash(line.content, line.end)) giveUp();
        at = line.content;
      }
      first = false;
      const { key, after } = this.key(at, line.end);
      if (Object.prototype.hasOwnProperty.call(out, key) || key === '<<' || key === '__proto__') giveUp();
      const here = child(path, key);
      const rest = this.skipSpaces(after, line.end);
      if (rest === line.end || this.text.charCodeAt(rest) === 35) {
        if (rest < line.end && this.text.charCodeAt(rest - 1) !== 32) giveUp();
        const nextLine = this.lines[i + 1];
        // The value is the block below: more indented, or a sequence at the key's own indentation.
        if (nextLine && (nextLine.indent > indent || (nextLine.indent === indent && this.isDash(nextLine.content, nextLine.end)))) {
          this.record(here, at, nextLine.content);
          [out[key], i] = this.block(i + 1, nextLine.indent, nextLine.content, here);
          continue;
        }
        // The library places an empty value where it would have started (after the `:` and spaces).
        this.record(here, at, rest);
        out[key] = null;
        i++;
        continue;
      }
      this.record(here, at, rest);
      out[key] = this.inline(rest, line.end);
      i++;
    }
    return [out, i];
  }

  private sequence(i: number, indent: number, path: string[]): [unknown[], number] {
    const out: unknown[] = [];
    while (i < this.lines.length) {
      const line = this.lines[i]!;
      if (line.indent < indent) break;
      if (line.indent > indent || !this.isDash(line.content, line.end)) {
        if (line.indent > indent) giveUp();
        break;
      }
      const here = child(path, String(out.length));
      const at = this.skipSpaces(line.content + 1, line.end);
      if (at === line.end || this.text.charCodeAt(at) === 35) {
        const nextLine = this.lines[i + 1];
        if (nextLine && nextLine.indent > indent) {
          this.record(here, undefined, nextLine.content);
          let v: unknown;
          [v, i] = this.block(i + 1, nextLine.indent, nextLine.content, here);
          out.push(v);
        } else {
          this.record(here, undefined, at);
          out.push(null);
          i++;
        }
        continue;
      }
      this.record(here, undefined, at);
      if (this.isDash(at, line.end)) giveUp(); // `- - a`
      if (this.startsKey(at, line.end)) {
        let v: unknown;
        [v, i] = this.mapping(i, at - line.start, at, here);
        out.push(v);
        continue;
      }
      out.push(this.inline(at, line.end));
      i++;
    }
    return [out, i];
  }

  private record(path: string[], key: number | undefined, node: number): void {
    if (path.length <= 2) this.starts.set(path.join('\u0000'), key === undefined ? { node } : { key, node });
  }

  /** Whether a mapping key starts at `at` (a `key:` before the end of the line, outside quotes and brackets). */
  private startsKey(at: number, end: number): boolean {
    const c = this.text[at];
    if (c === '"' || c === "'") {
      const q = c === '"' ? this.doubleQuoted(at, end) : this.singleQuoted(at, end);
      const after = this.skipSpaces(q.end, end);
      return this.text[after] === ':';
    }
    if (c === '[' || c === '{') return false;
    for (let k = at; k < end; k++) {
      const ch = this.text.charCodeAt(k);
      if (ch === 58 && (k + 1 === end || this.text.charCodeAt(k + 1) === 32)) return true;
      if (ch === 35 && this.text.charCodeAt(k - 1) === 32) return false;
    }
    return false;
  }

  /** A key at `at` and the offset after its `:`. */
  private key(at: number, end: number): { key: string; after: number } {
    const c = this.text[at];
    let key: string;
    let k: number;
    if (c === '"' || c === "'") {
      const q = c === '"' ? this.doubleQuoted(at, end) : this.singleQuoted(at, end);
      key = q.value;
      k = this.skipSpaces(q.end, end);
      if (this.text.charCodeAt(k) !== 58 || (k + 1 < end && this.text.charCodeAt(k + 1) !== 32)) giveUp();
    } else {
      k = at;
      while (k < end && !(this.text.charCodeAt(k) === 58 && (k + 1 === end || this.text.charCodeAt(k + 1) === 32))) k++;
      if (k === end) giveUp();
      key = this.text.slice(at, k).trimEnd();
      if (!/^[A-Za-z0-9_$][A-Za-z0-9_./$ -]*$/.test(key) || typeof resolvePlain(key) !== 'string') giveUp();
    }
    return { key, after: k + 1 };
  }

  /** A one-line value at `at`: quoted, flow or plain, then nothing but a comment. */
  private inline(at: number, end: number): unknown {
    const c = this.text[at]!;
    let value: unknown;
    let after: number;
    if (c === '"' || c === "'") {
      const q = c === '"' ? this.doubleQuoted(at, end) : this.singleQuoted(at, end);
      [value, after] = [q.value, q.end];
    } else if (c === '[' || c === '{') {
      [value, after] = this.flow(at, end);
    } else {
      if ('&*!|>%@`#,]}?:-'.includes(c) && !(c === '-' && at + 1 < end && this.text[at + 1] !== ' ')) giveUp();
      let k = at;
      while (k < end && !(this.text.charCodeAt(k) === 35 && this.text.charCodeAt(k - 1) === 32)) k++;
      const raw = this.text.slice(at, k).trimEnd();
      if (raw.includes(': ') || raw.endsWith(':')) giveUp();
      return resolvePlain(raw);
    }
    const rest = this.skipSpaces(after, end);
    if (rest < end && !(this.text.charCodeAt(rest) === 35 && rest > after)) giveUp();
    return value;
  }

  /** A flow collection on one line. */
  private flow(at: number, end: number): [unknown, number] {
    const open = this.text[at];
    const close = open === '[' ? ']' : '}';
    const seq: unknown[] = [];
    const map: Record<string, unknown> = {};
    let k = this.skipSpaces(at + 1, end);
    while (k < end && this.text[k] !== close) {
      let item: unknown;
      [item, k] = this.flowItem(k, end, open === '{');
      if (open === '{') {
        k = this.skipSpaces(k, end);
        if (this.text[k] !== ':' || typeof item !== 'string' || Object.prototype.hasOwnProperty.call(map, item) || item === '__proto__' || item === '<<') giveUp();
        k = this.skipSpaces(k + 1, end);
        let v: unknown = null;
        if (this.text[k] !== ',' && this.text[k] !== '}') [v, k] = this.flowItem(k, end, false);
        map[item as string] = v;
      } else seq.push(item);
      k = this.skipSpaces(k, end);
      if (this.text[k] === ',') k = this.skipSpaces(k + 1, end);
      else if (this.text[k] !== close) giveUp();
    }
    if (k >= end) giveUp();
    return [open === '[' ? seq : map, k + 1];
  }

  /** One item of a flow collection; `key` when it is a flow mapping's key. */
  private flowItem(at: number, end: number, key: boolean): [unknown, number] {
    const c = this.text[at];
    if (c === '"' || c === "'") {
      const q = c === '"' ? this.doubleQuoted(at, end) : this.singleQuoted(at, end);
      return [q.value, q.end];
    }
    if (c === '[' || c === '{') {
      if (key) giveUp();
      return this.flow(at, end);
    }
    if (c === undefined || '&*!|>%@`#,:?-'.includes(c) && !(c === '-' && at + 1 < end && !' ,[]{}'.includes(this.text[at + 1]!))) giveUp();
    let k = at;
    for (; k < end; k++) {
      const ch = this.text[k]!;
      if (ch === ',' || ch === ']' || ch === '}' || ch === '[' || ch === '{') break;
      if (ch === ':' && (k + 1 === end || ' ,]}'.includes(this.text[k + 1]!))) break;
      if (ch === '#' && this.text[k - 1] === ' ') giveUp();
    }
    if (this.text[k] === '[' || this.text[k] === '{') giveUp();
    const raw = this.text.slice(at, k).trimEnd();
    // In a flow list, `a: b` is a one-pair mapping: the yaml library's business.
    if (!key && this.text[k] === ':') giveUp();
    const v = resolvePlain(raw);
    if (key && typeof v !== 'string') giveUp();
    return [v, k];
  }

  private doubleQuoted(at: number, end: number): { value: string; end: number } {
    let out = '';
    let k = at + 1;
    let from = k;
    for (; k < end; k++) {
      const ch = this.text[k];
      if (ch === '"') return { value: out + this.text.slice(from, k), end: k + 1 };
      if (ch !== '\\') continue;
      out += this.text.slice(from, k);
      const e = this.text[k + 1];
      const simple = e === undefined ? undefined : ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        k += 1;
      } else {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
        const hex = this.text.slice(k + 2, k + 2 + n);
        if (n === 0 || !/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== n || k + 2 + n > end) giveUp();
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) giveUp();
        out += String.fromCodePoint(cp);
        k += 1 + n;
      }
      from = k + 1;
    }
    return giveUp();
  }

  private singleQuoted(at: number, end: number): { value: string; end: number } {
    let out = '';
    let k = at + 1;
    for (;;) {
      const q = this.text.indexOf("'", k);
      if (q < 0 || q >= end) giveUp();
      out += this.text.slice(k, q);
      if (this.text[q + 1] === "'") {
        out += "'";
        k = q + 2;
      } else return { value: out, end: q + 1 };
    }
  }

  private skipSpaces(k: number, end: number): number {
    while (k < end && this.text.charCodeAt(k) === 32) k++;
    return k;
  }
}

/** Paths deeper than two levels are not recorded: they share one array instead of allocating one per node. */
const DEEP: string[] = ['', '', ''];
function child(path: string[], seg: string): string[] {
  return path.length >= 2 ? DEEP : [...path, seg];
}

const ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029',
};

/** A plain scalar's value under the YAML 1.2 core schema, as the `yaml` library resolves it. */
export function resolvePlain(s: string): unknown {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s)) return s[0] === 't' || s[0] === 'T';
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? -Infinity : Infinity;
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s);
  return s;
}
