/**
 * The yaml library's syntax errors in words a user understands, at the place the user has
 * to fix (the opening quote or bracket that was never closed, not the end of the file).
 * After the first syntax error the library's further errors are mostly consequences of it,
 * so only the first is kept; duplicate keys are independent of each other and all kept.
 */
import { isAlias, isCollection, isMap, isPair, isScalar, visit, type Document, type Node, type YAMLError } from 'yaml';

/** One syntax problem: a character offset into the text and a message. */
export interface YamlProblem {
  offset: number;
  message: string;
}

const TAB_MESSAGE = 'YAML syntax: a tab is used for indentation: YAML indents with spaces only';

/**
 * The problems to report for a document's errors (empty when it has none). `tab` is the
 * offset of a tab in indentation ({@link indentationTab}): it is reported instead of the
 * first syntax error after it, which is its consequence (in a flow list the library
 * reports an unclosed `[` a line early, and never says "tab"), and also when the library
 * let it pass.
 */
export function yamlProblems(doc: Document, text: string, tab?: number): YamlProblem[] {
  const errors = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0]);
  const dups = errors.filter((e) => e.code === 'DUPLICATE_KEY');
  const first = errors.find((e) => e.code !== 'DUPLICATE_KEY');
  const out = dups.map((e) => duplicateKey(doc, text, e.pos[0]));
  if (tab !== undefined && (!first || first.pos[0] >= tab || first.code === 'TAB_AS_INDENT')) out.push({ offset: tab, message: TAB_MESSAGE });
  else if (first) out.push(describe(doc, text, first));
  return out.sort((a, b) => a.offset - b.offset);
}

/**
 * The offset of the first tab in a line's indentation, outside block scalars and quoted
 * strings (where a tab is text) and comment lines; undefined when there is none.
 */
export function indentationTab(doc: Document, text: string): number | undefined {
  if (!text.includes('\t')) return undefined;
  let textRanges: Array<[number, number]> | undefined;
  const LEADING_TAB = /^ *\t[ \t]*([^ \t\r\n])?/gm;
  for (let m = LEADING_TAB.exec(text); m; m = LEADING_TAB.exec(text)) {
    if (m[1] === undefined || m[1] === '#') continue; // a blank or comment line
    const at = m.index + m[0].indexOf('\t');
    textRanges ??= scalarTextRanges(doc);
    if (!textRanges.some(([a, b]) => at > a && at < b)) return at;
  }
  return undefined;
}

/** The ranges of block scalars and quoted strings, inside which a tab is part of the value. */
function scalarTextRanges(doc: Document): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  visit(doc, {
    Scalar(_k, node) {
      if (node.range && node.type !== 'PLAIN') out.push([node.range[0], node.range[1]]);
    },
  });
  return out;
}

/** Values an alias may bring into a file in all, before it counts as an alias bomb. */
export const MAX_ALIAS_EXPANSION = 100_000;

/**
 * The alias at which the values that aliases repeat exceed `limit` (a "billion laughs"
 * bomb: each alias repeats an anchor full of aliases); with `limit` 0, the alias that
 * repeats the most. Undefined when the file has no aliases or stays under the limit.
 */
export function aliasBomb(doc: Document, limit = MAX_ALIAS_EXPANSION): YamlProblem | undefined {
  const anchors = new Map<string, Node>();
  const aliases: Array<{ node: Node & { source: string }; target: Node | undefined }> = [];
  const targets = new Map<unknown, Node | undefined>();
  visit(doc, {
    Node(_k, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        aliases.push({ node, target });
        targets.set(node, target);
      } else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  if (aliases.length === 0) return undefined;
  const size = new Map<unknown, number>();
  const sizeOf = (n: unknown, depth: number): number => {
    if (!n || typeof n !== 'object' || depth > 200) return 1;
    const known = size.get(n);
    if (known !== undefined) return known;
    size.set(n, 1); // an anchor that contains its own alias counts once
    let s = 1;
    if (isAlias(n)) s = sizeOf(targets.get(n), depth + 1);
    else if (isPair(n)) s = sizeOf(n.key, depth + 1) + sizeOf(n.value, depth + 1);
    else if (isCollection(n)) for (const item of n.items) s += sizeOf(item, depth + 1);
    s = Math.min(s, Number.MAX_SAFE_INTEGER);
    size.set(n, s);
    return s;
  };
  let total = 0;
  let worst: { node: Node & { source: string }; n: number } | undefined;
  for (const a of aliases) {
    const n = sizeOf(a.target, 0);
    total += n;
    if (!worst || n > worst.n) worst = { node: a.node, n };
    if (limit > 0 && total > limit) return bombAt(a.node, total);
  }
  return limit === 0 && worst ? bombAt(worst.node, worst.n) : undefined;
}

function bombAt(alias: Node & { source: string }, n: number): YamlProblem {
  const many = n >= 1e6 ? `${(n / 1e6).toPrecision(3)} million` : String(n);
  return {
    offset: alias.range?.[0] ?? 0,
    message: `YAML: alias bomb: with alias \`*${alias.source}\` the aliases of this file repeat ${many} values (at most ${MAX_ALIAS_EXPANSION}); an anchor full of aliases multiplies each time it is aliased`,
  };
}

/** The position and message of an alias whose anchor does not exist (toJS throws on it). */
export function unresolvedAlias(doc: Document): YamlProblem | undefined {
  let found: YamlProblem | undefined;
  visit(doc, {
    Alias(_k, node) {
      if (!node.resolve(doc)) {
        found = { offset: node.range?.[0] ?? 0, message: `YAML: unknown anchor \`*${node.source}\`: an alias needs an anchor \`&${node.source}\` earlier in the same file` };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function describe(doc: Document, text: string, e: YAMLError): YamlProblem {
  const raw = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const offset = e.pos[0];
  const syntax = (message: string, at = offset): YamlProblem => ({ offset: at, message: `YAML syntax: ${message}` });
  switch (e.code) {
    case 'TAB_AS_INDENT':
      return syntax('a tab is used for indentation: YAML indents with spaces only');
    case 'MULTIPLE_DOCS':
      return syntax('a second YAML document (`---`): a pipeline file holds one document; put the rest in another file');
    case 'BLOCK_AS_IMPLICIT_KEY':
      return syntax('a mapping cannot start after this value: is the next line indented too far, or does the value contain an unquoted `: `?');
    case 'MISSING_CHAR':
      if (/closing "quote/.test(raw)) return unclosedQuote(doc, text, offset, '"');
      if (/closing 'quote/.test(raw)) return unclosedQuote(doc, text, offset, "'");
      if (/without - indicator/.test(raw)) return syntax('bad indentation: this line does not line up with the lines above it', firstNonSpace(text, offset));
      break;
    case 'BAD_INDENT':
      if (/end with a \]/.test(raw)) return unclosedFlow(doc, text, offset, '[', ']');
      if (/end with a \}/.test(raw)) return unclosedFlow(doc, text, offset, '{', '}');
      if (/same column/.test(raw)) return syntax('bad indentation: this key does not line up with the keys above it', firstNonSpace(text, offset));
      break;
  }
  return syntax(lowerFirst(raw));
}

/** The opening quote of the quoted scalar that never closes. */
function unclosedQuote(doc: Document, text: string, offset: number, quote: string): YamlProblem {
  let at = offset;
  visit(doc, {
    Scalar(_k, node) {
      const r = node.range;
      if (!r || node.type !== (quote === '"' ? 'QUOTE_DOUBLE' : 'QUOTE_SINGLE')) return undefined;
      const src = text.slice(r[0], r[1]).trimEnd();
      if (src.length < 2 || !src.endsWith(quote)) {
        at = r[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return { offset: at, message: `YAML syntax: unclosed quote: the string that starts here has no closing ${quote}` };
}

/** The opening bracket or brace of the flow collection that never closes (the innermost). */
function unclosedFlow(doc: Document, text: string, offset: number, open: string, close: string): YamlProblem {
  let at = offset;
  visit(doc, {
    Node(_k, node) {
      if (!isCollection(node) || !node.flow || !node.range) return undefined;
      if ((open === '[') === isMap(node)) return undefined;
      const src = text.slice(node.range[0], node.range[1]).trimEnd();
      if (src.startsWith(open) && !src.endsWith(close) && node.range[0] <= offset) at = node.range[0];
      return undefined;
    },
  });
  const what = open === '[' ? 'list' : 'mapping';
  return { offset: at, message: `YAML syntax: unclosed \`${open}\`: the ${what} that starts here has no closing \`${close}\`` };
}

/** `duplicate key \`x\``, with the line of the first occurrence in the same mapping. */
function duplicateKey(doc: Document, text: string, offset: number): YamlProblem {
  let name: string | undefined;
  let firstLineOffset: number | undefined;
  visit(doc, {
    Map(_k, map) {
      const i = map.items.findIndex((p) => isPair(p) && isScalar(p.key) && p.key.range?.[0] === offset);
      if (i < 0) return undefined;
      const dup = map.items[i]!;
      const key = isScalar(dup.key) ? dup.key.value : undefined;
      name = String(key);
      const first = map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      if (first && first !== dup && isScalar(first.key)) firstLineOffset = first.key.range?.[0];
      return visit.BREAK;
    },
  });
  name ??= /^\s*("[^"]*"|'[^']*'|[^:#\n]*?)\s*:/.exec(text.slice(offset))?.[1] ?? '?';
  const line = firstLineOffset === undefined ? '' : `: it is already set at line ${lineOf(text, firstLineOffset)}`;
  return { offset, message: `YAML syntax: duplicate key \`${name}\` in the same mapping${line}` };
}

function firstNonSpace(text: string, offset: number): number {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let i = lineStart;
  while (text[i] === ' ') i++;
  return i < text.length && text[i] !== '\n' ? i : offset;
}

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
