/**
 * Recursive-descent parser of selection expressions.
 *
 *   expr    := or EOF
 *   or      := and (('or' | 'OR' | ',') and)*
 *   and     := not (('and' | 'AND') not)*
 *   not     := ('not' | 'NOT') not | graph
 *   graph   := [DIGITS] '+' primary ['+' [DIGITS]]  |  primary ['+' [DIGITS]]
 *   primary := '(' or ')' | FUNC '(' or ')' | ATTR ':' value | WORD | STRING
 *
 * Depth digits touch their `+` (`2+X`, `X+1`); an attribute's `:` and value touch its
 * name. Two operands with no operator between them are an error, as in Dagster.
 */
import { fail, ok, type Result } from '../diagnostics/diagnostic.js';
import { ATTRIBUTES, FUNCTIONS, SELECTION_STATUSES, type AttributeName, type FunctionName, type SelectionNode, type Span } from './ast.js';
import { nearestNames, selectionError, suggestionSuffix, type SelectionDiagnostic } from './errors.js';
import { tokenize, tokenSource, type Token } from './lexer.js';

/** Parentheses, `not` and functions nest at most this deep (the parser recurses). */
export const MAX_NESTING = 200;

const OR_WORDS = new Set(['or', 'OR']);
const AND_WORDS = new Set(['and', 'AND']);
const NOT_WORDS = new Set(['not', 'NOT']);
const DIGITS = /^[0-9]+$/;

/** Words a user may reach for that are not statuses, mapped to the status they mean. */
const STATUS_ALIASES: Record<string, string> = {
  failed: 'failure',
  fail: 'failure',
  error: 'failure',
  succeeded: 'success',
  successful: 'success',
  succeed: 'success',
  ok: 'success',
  passed: 'success',
  cancelled: 'canceled',
  cancel: 'canceled',
  skip: 'skipped',
  queued: 'pending',
  started: 'running',
};

/** Thrown inside the parser only; parseSelection turns it into a Result. */
class ParseError {
  constructor(readonly diagnostic: SelectionDiagnostic) {}
}

/** Parses a selection expression into its syntax tree, or the first syntax error. Never throws. */
export function parseSelection(text: string): Result<SelectionNode> {
  if (typeof text !== 'string') return fail({ message: 'a selection expression must be a string' });
  const lexed = tokenize(text);
  if (!lexed.ok) return lexed;
  try {
    return ok(new Parser(text, lexed.value).parseExpression());
  } catch (e) {
    if (e instanceof ParseError) return fail(e.diagnostic);
    throw e;
  }
}

class Parser {
  private i = 0;
  private nesting = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  parseExpression(): SelectionNode {
    if (this.peek().type === 'eof') throw this.error('empty selection expression', { start: 0, end: this.text.length });
    const node = this.parseOr();
    const t = this.peek();
    if (t.type !== 'eof') throw this.afterOperand(t);
    return node;
  }

  private parseOr(): SelectionNode {
    const first = this.parseAnd();
    const operands = [first];
    while (this.isWord(this.peek(), OR_WORDS) || this.peek().type === 'comma') {
      this.next();
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? first : { type: 'or', operands, span: spanOf(first, operands.at(-1)!) };
  }

  private parseAnd(): SelectionNode {
    const first = this.parseNot();
    const operands = [first];
    while (this.isWord(this.peek(), AND_WORDS)) {
      this.next();
      operands.push(this.parseNot());
    }
    return operands.length === 1 ? first : { type: 'and', operands, span: spanOf(first, operands.at(-1)!) };
  }

  private parseNot(): SelectionNode {
    const t = this.peek();
    if (!this.isWord(t, NOT_WORDS)) return this.parseGraph();
    this.next();
    this.enter(t);
    const operand = this.parseNot();
    this.nesting--;
    return { type: 'not', operand, span: { start: t.start, end: operand.span.end } };
  }

  private parseGraph(): SelectionNode {
    const first = this.peek();
    let up: number | undefined;
    if (first.type === 'word' && /^[0-9]/.test(first.text) && this.touchingPlus(first)) {
      const afterPlus = this.peek(2);
      // `2+X`: a depth. `2fa+X` is a bad depth, but `2fa+` alone is the key `2fa` and descendants.
      if (DIGITS.test(first.text) || (afterPlus.start === first.end + 1 && this.startsPrimary(afterPlus))) {
        up = this.depth(first);
        this.next();
        this.next();
      }
    } else if (first.type === 'plus') {
      this.next();
      up = Infinity;
    }
    const operand = this.parsePrimary();
    let down: number | undefined;
    let end = operand.span.end;
    const plus = this.peek();
    if (plus.type === 'plus') {
      this.next();
      end = plus.end;
      down = Infinity;
      const n = this.peek();
      if (n.type === 'word' && n.start === plus.end && /^[0-9]/.test(n.text)) {
        down = this.depth(n);
        this.next();
        end = n.end;
      }
    }
    if (up === undefined && down === undefined) return operand;
    const node: SelectionNode = { type: 'graph', operand, span: { start: first.start, end } };
    if (up !== undefined) node.up = up;
    if (down !== undefined) node.down = down;
    return node;
  }

  private parsePrimary(): SelectionNode {
    const t = this.peek();
    if (t.type === 'lparen') return this.parseParen();
    if (t.type === 'string') {
      if (t.text === '') throw this.error('empty asset key', t);
      this.next();
      return { type: 'key', pattern: t.text, span: { start: t.start, end: t.end } };
    }
    if (t.type === 'word' && !this.isKeyword(t)) {
      const n = this.peek(1);
      if (n.type === 'colon' && n.start === t.end) return this.parseAttribute(t);
      if (n.type === 'lparen') {
        if ((FUNCTIONS as readonly string[]).includes(t.text)) return this.parseFunction(t.text as FunctionName);
        if (n.start === t.end) {
          const near = nearestNames(t.text, FUNCTIONS);
          const msg = near.length > 0 ? `unknown function '${t.text}'${suggestionSuffix(near)}` : `unknown function '${t.text}'; functions: ${FUNCTIONS.join(', ')}`;
          throw this.error(msg, t);
        }
      }
      this.next();
      return { type: 'key', pattern: t.text, span: { start: t.start, end: t.end } };
    }
    throw this.operandExpected(t);
  }

  private parseParen(): SelectionNode {
    const open = this.next();
    this.enter(open);
    const inner = this.parseOr();
    this.close(open);
    this.nesting--;
    return inner;
  }

  private parseFunction(name: FunctionName): SelectionNode {
    const nameTok = this.next();
    const open = this.next();
    this.enter(open);
    const operand = this.parseOr();
    const close = this.close(open);
    this.nesting--;
    return { type: 'function', name, operand, span: { start: nameTok.start, end: close.end } };
  }

  private parseAttribute(nameTok: Token): SelectionNode {
    const name = nameTok.text;
    if (!(ATTRIBUTES as readonly string[]).includes(name)) {
      const near = nearestNames(name, ATTRIBUTES);
      const msg = near.length > 0 ? `unknown attribute '${name}'${suggestionSuffix(near)}` : `unknown attribute '${name}'; attributes: ${ATTRIBUTES.join(', ')}`;
      throw this.error(msg, nameTok);
    }
    this.next();
    const colon = this.next();
    const attr = name as AttributeName;
    const v = this.value(colon, `${name}:`, attr !== 'tag');
    if (attr === 'key') return { type: 'key', pattern: v.text, span: { start: nameTok.start, end: v.end } };
    if (attr === 'tag') return this.tagRest(nameTok, v);
    if (attr === 'status' && !(SELECTION_STATUSES as readonly string[]).includes(v.text)) {
      const alias = STATUS_ALIASES[v.text.toLowerCase()];
      const near = alias ? [alias] : nearestNames(v.text, SELECTION_STATUSES);
      const msg = near.length > 0 ? `unknown status '${v.text}'${suggestionSuffix(near)}` : `unknown status '${v.text}'; statuses: ${SELECTION_STATUSES.join(', ')}`;
      throw this.error(msg, v);
    }
    const span = { start: nameTok.start, end: v.end };
    return { type: 'attr', name: attr, value: v.text, span, valueSpan: { start: v.start, end: v.end } };
  }

  /** After `tag:NAME`: an optional `=VALUE`; a quoted `"NAME=VALUE"` is split at its first `=`. */
  private tagRest(nameTok: Token, nameVal: Token): SelectionNode {
    let name = nameVal.text;
    let value: string | undefined;
    let end = nameVal.end;
    const eq = this.peek();
    if (eq.type === 'eq' && eq.start === nameVal.end) {
      this.next();
      const v = this.value(eq, `tag:${tokenSource(this.text, nameVal)}=`, false);
      value = v.text;
      end = v.end;
    } else if (nameVal.type === 'string' && name.includes('=')) {
      value = name.slice(name.indexOf('=') + 1);
      name = name.slice(0, name.indexOf('='));
    }
    if (name === '') throw this.error(`missing tag name after 'tag:'`, nameVal);
    const node: SelectionNode = { type: 'tag', name, span: { start: nameTok.start, end }, valueSpan: { start: nameVal.start, end } };
    if (value !== undefined) node.value = value;
    return node;
  }

  /** The word or string touching `after` (keywords count as values here). */
  private value(after: Token, what: string, nonEmpty: boolean): Token {
    const v = this.peek();
    const touching = v.start === after.end && (v.type === 'word' || v.type === 'string');
    if (!touching || (nonEmpty && v.text === '')) {
      throw this.error(`missing value after '${what}'`, touching || v.type !== 'eof' ? v : { start: after.end, end: after.end });
    }
    this.next();
    return v;
  }

  private close(open: Token): Token {
    const t = this.peek();
    if (t.type === 'rparen') return this.next();
    if (t.type === 'eof') throw this.error(`unclosed '('`, open);
    throw this.afterOperand(t);
  }

  private enter(t: Token): void {
    if (++this.nesting > MAX_NESTING) throw this.error(`expression nested too deeply (more than ${MAX_NESTING} levels)`, t);
  }

  /** A depth number: digits only, and a safe integer. */
  private depth(t: Token): number {
    const n = Number(t.text);
    if (!DIGITS.test(t.text) || !Number.isSafeInteger(n)) {
      throw this.error(`bad depth number '${t.text}' (expected a whole number of levels, as in 2+X or X+1)`, t);
    }
    return n;
  }

  /** The error for a token that cannot start an operand where one is needed. */
  private operandExpected(t: Token): ParseError {
    const prev = this.i > 0 ? this.tokens[this.i - 1] : undefined;
    if (t.type === 'rparen' && !prev) return this.error(`unexpected ')' (no matching '(')`, t);
    if (t.type === 'rparen' && prev?.type === 'lparen') return this.error('empty parentheses', { start: prev.start, end: t.end });
    if (t.type === 'comma' || this.isWord(t, OR_WORDS) || this.isWord(t, AND_WORDS) || t.type === 'rparen') {
      return this.error(`missing operand before '${t.text}'`, t);
    }
    if (t.type === 'eof') {
      return this.error(prev ? `missing operand after '${tokenSource(this.text, prev)}'` : 'empty selection expression', t);
    }
    if (this.isWord(t, NOT_WORDS)) return this.error(`missing operand after '+' ('not' needs parentheses here: +(not X))`, t);
    return this.error(`unexpected '${t.text}'`, t);
  }

  /** The error for a token that follows a complete operand but is not an operator. */
  private afterOperand(t: Token): ParseError {
    if (t.type === 'word' || t.type === 'string' || t.type === 'lparen') {
      // `a And b`, `Not a`: a keyword in the wrong case reads as a key, then two keys collide.
      const prev = this.tokens[this.i - 1];
      const mixedCase = [t, prev].some((w) => w?.type === 'word' && ['and', 'or', 'not'].includes(w.text.toLowerCase()) && !this.isKeyword(w));
      const hint = mixedCase ? ' (operators are written and/AND, or/OR, not/NOT)' : '';
      return this.error(`expected 'and', 'or' or ',' before '${tokenSource(this.text, t)}'${hint}`, t);
    }
    if (t.type === 'rparen') return this.error(`unexpected ')' (no matching '(')`, t);
    return this.error(`unexpected '${t.text}'`, t);
  }

  private startsPrimary(t: Token): boolean {
    return t.type === 'lparen' || t.type === 'string' || (t.type === 'word' && !this.isKeyword(t));
  }

  private touchingPlus(t: Token): boolean {
    const n = this.peek(1);
    return n.type === 'plus' && n.start === t.end;
  }

  private isKeyword(t: Token): boolean {
    return this.isWord(t, OR_WORDS) || this.isWord(t, AND_WORDS) || this.isWord(t, NOT_WORDS);
  }

  private isWord(t: Token, words: Set<string>): boolean {
    return t.type === 'word' && words.has(t.text);
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  private error(message: string, span: Span): ParseError {
    return new ParseError(selectionError(message, { start: span.start, end: span.end }, this.text));
  }
}

function spanOf(a: SelectionNode, b: SelectionNode): Span {
  return { start: a.span.start, end: b.span.end };
}
