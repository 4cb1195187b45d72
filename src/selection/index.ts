/**
 * The selection language: Dagster's and dbt's syntax in one grammar (see DESIGN.md,
 * "Selection expressions", and SELECTION_HELP below). `select` is what commands use;
 * `checkSelection` is for a job's or schedule's `select:` at load time (syntax and names).
 */
import { fail, ok, type Result } from '../diagnostics/diagnostic.js';
import type { SelectionContext } from './context.js';
import { evaluateSelection } from './evaluate.js';
import { parseSelection } from './parser.js';

export type { SelectableAsset, SelectionContext } from './context.js';
export type { SelectionNode, Span, KeyNode, AttributeNode, TagNode, NotNode, AndNode, OrNode, GraphNode, FunctionNode, AttributeName, FunctionName } from './ast.js';
export { ATTRIBUTES, FUNCTIONS, SELECTION_STATUSES } from './ast.js';
export type { SelectionDiagnostic } from './errors.js';
export { caretLines } from './errors.js';
export { parseSelection, MAX_NESTING } from './parser.js';
export { checkSelection, evaluateSelection } from './evaluate.js';
export { formatSelection } from './format.js';
export { compileGlob, compileKeyPattern, fromLegacy } from './match.js';

/**
 * Parses and evaluates `text`; the selected keys in topological order (`ctx.graph.order`,
 * ties by key). Errors are diagnostics with the expression and a caret; never throws.
 */
export function select(text: string, ctx: SelectionContext): Result<string[]> {
  const parsed = parseSelection(text);
  if (!parsed.ok) return parsed;
  const keys = evaluateSelection(parsed.value, ctx, text);
  if (!keys.ok) return keys;
  let ordered: string[];
  try {
    ordered = ctx.graph.order(keys.value);
  } catch {
    // Only a cyclic graph makes ordering throw; the loader reports the cycle itself.
    return fail({ message: 'cannot order the selection: the asset graph has a cycle' });
  }
  if (ordered.length < keys.value.size) {
    // Assets the graph does not know (a context built by hand) go last, by key.
    const known = new Set(ordered);
    ordered.push(...[...keys.value].filter((k) => !known.has(k)).sort());
  }
  return ok(ordered);
}

/** The selection syntax in a few lines, for `--help` of commands that take `--select`. */
export const SELECTION_HELP = `Selection expressions:
  openmetadata/*                 keys matching a pattern (* matches anything, / included)
  openmetadata__trino__metadata  legacy names: __ stands for /
  key:"a b"  group:NAME  tag:NAME  tag:NAME=VALUE  kind:NAME  owner:NAME  handler:NAME
  job:NAME (that job's selection)  status:failure (last run: pending running success failure skipped canceled)
  +X  2+X  X+  X+1  2+X+1        X with ancestors / descendants (all levels, or N)
  roots(X)  sinks(X)             keys of X with no parent / no child inside X
  not X,  X and Y,  X or Y,  X, Y (comma = or);  AND OR NOT too;  parentheses group`;
