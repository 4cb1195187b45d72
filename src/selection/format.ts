/**
 * Prints a syntax tree back as an expression that parses to the same tree (up to spans):
 * for messages, `--json` output and round-trip tests.
 */
import type { SelectionNode } from './ast.js';

const PLAIN = /^[^\s()+,:="'&|!;\\]+$/;
const KEYWORDS = new Set(['and', 'AND', 'or', 'OR', 'not', 'NOT']);

/** A value as written after `attr:`: bare when the lexer reads it back as one word. */
function value(v: string): string {
  return PLAIN.test(v) ? v : `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The canonical text of a selection. */
export function formatSelection(node: SelectionNode): string {
  switch (node.type) {
    case 'key':
      // Keywords and leading digits (`2+X` is a depth) would read differently bare.
      return PLAIN.test(node.pattern) && !KEYWORDS.has(node.pattern) && !/^[0-9]/.test(node.pattern) ? node.pattern : `key:${value(node.pattern)}`;
    case 'attr':
      return `${node.name}:${value(node.value)}`;
    case 'tag':
      if (node.value === undefined) return `tag:${value(node.name)}`;
      // `tag:"a=b"` would split at the `=`; a name with `=` is always followed by `=VALUE`.
      return `tag:${node.name.includes('=') || !PLAIN.test(node.name) ? `"${node.name.replace(/["\\]/g, (c) => `\\${c}`)}"` : node.name}=${value(node.value)}`;
    case 'not':
      return `not ${wrap(node.operand, ['and', 'or'])}`;
    case 'and':
      return node.operands.map((o) => wrap(o, ['and', 'or'])).join(' and ');
    case 'or':
      // `and` inside `or` needs no parentheses; they are printed to show the grouping.
      return node.operands.map((o) => wrap(o, ['and', 'or'])).join(' or ');
    case 'graph': {
      const up = node.up === undefined ? '' : node.up === Infinity ? '+' : `${node.up}+`;
      const down = node.down === undefined ? '' : node.down === Infinity ? '+' : `+${node.down}`;
      return `${up}${wrap(node.operand, ['and', 'or', 'not', 'graph'])}${down}`;
    }
    case 'function':
      return `${node.name}(${formatSelection(node.operand)})`;
  }
}

function wrap(node: SelectionNode, needParens: SelectionNode['type'][]): string {
  const s = formatSelection(node);
  return needParens.includes(node.type) ? `(${s})` : s;
}
