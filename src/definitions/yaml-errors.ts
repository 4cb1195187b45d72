/**
 * The yaml library's syntax errors in words a user understands, at the place the user has
 * to fix (the opening quote or bracket that was never closed, not the end of the file).
 * After the first syntax error the library's further errors are mostly consequences of it,
 * so only the first is kept; duplicate keys are independent of each other and all kept.
 */
import { isCollection, isMap, isPair, isScalar, visit, type Document, type YAMLError } from 'yaml';

/** One syntax problem: a character offset into the text and a message. */
export interface YamlProblem {
  offset: number;
  message: string;
}

/** The problems to report for a document's errors (empty when it has none). */
export function yamlProblems(doc: Document, text: string): YamlProblem[] {
  const errors = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0]);
  const dups = errors.filter((e) => e.code === 'DUPLICATE_KEY');
  const first = errors.find((e) => e.code !== 'DUPLICATE_KEY');
  const out = dups.map((e) => duplicateKey(doc, text, e.pos[0]));
  if (first) out.push(describe(doc, text, first));
  return out.sort((a, b) => a.offset - b.offset);
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
