/**
 * Tokens of a selection expression. Words are runs of anything but whitespace and the
 * punctuation below, so keys, globs, e-mail owners and unicode names need no quoting;
 * keywords (`and`, `OR`, ...) are words the parser recognises by position.
 */
import { fail, ok, type Result } from '../diagnostics/diagnostic.js';
import { selectionError } from './errors.js';

/** Kinds of token; keywords are `word`s. */
export type TokenType = 'word' | 'string' | 'lparen' | 'rparen' | 'plus' | 'comma' | 'colon' | 'eq' | 'eof';

/** One token; `text` is the decoded value of a string, the source text otherwise. */
export interface Token {
  type: TokenType;
  text: string;
  start: number;
  end: number;
}

const PUNCT: Record<string, TokenType> = {
  '(': 'lparen',
  ')': 'rparen',
  '+': 'plus',
  ',': 'comma',
  ':': 'colon',
  '=': 'eq',
};

/** Characters that mean something in other languages: rejected with a hint. */
const REJECTED: Record<string, string> = {
  '&': " (use 'and')",
  '|': " (use 'or')",
  '!': " (use 'not')",
  "'": ' (quote values with double quotes)',
  ';': '',
};

const WHITESPACE = /\s/;

function isWordChar(c: string): boolean {
  return !WHITESPACE.test(c) && !(c in PUNCT) && !(c in REJECTED) && c !== '"';
}

/** Splits `text` into tokens ending with an `eof` token, or the first lexical error. */
export function tokenize(text: string): Result<Token[]> {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (WHITESPACE.test(c)) {
      i++;
      continue;
    }
    const punct = PUNCT[c];
    if (punct) {
      tokens.push({ type: punct, text: c, start: i, end: i + 1 });
      i++;
      continue;
    }
    if (c === '"') {
      const s = readString(text, i);
      if (!s) return fail(selectionError('unclosed quote', { start: i, end: text.length }, text));
      tokens.push(s);
      i = s.end;
      continue;
    }
    if (c in REJECTED) {
      const shown = c === "'" ? `"'"` : `'${c}'`;
      return fail(selectionError(`unexpected ${shown}${REJECTED[c]}`, { start: i, end: i + 1 }, text));
    }
    const start = i;
    while (i < text.length && isWordChar(text[i]!)) i++;
    tokens.push({ type: 'word', text: text.slice(start, i), start, end: i });
  }
  tokens.push({ type: 'eof', text: '', start: text.length, end: text.length });
  return ok(tokens);
}

/** A double-quoted string from `start`; `\"` and `\\` are escapes. Undefined when unclosed. */
function readString(text: string, start: number): Token | undefined {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') return { type: 'string', text: value, start, end: i + 1 };
    if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
      value += text[i + 1];
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  return undefined;
}

/** The source text of a token as written (strings with their quotes). */
export function tokenSource(text: string, t: Token): string {
  return t.type === 'eof' ? 'end of expression' : text.slice(t.start, t.end);
}
