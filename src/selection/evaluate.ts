/**
 * Evaluates a parsed selection against assets, jobs, the graph and (for `status:`) the
 * last run. Every name that matches nothing is an error with the closest names; all such
 * errors of one expression are reported together. Jobs' selections are parsed once per
 * jobs map and evaluated once per evaluation; a job that selects itself is an error.
 */
import { fail, ok, type Result } from '../diagnostics/diagnostic.js';
import type { AttributeNode, KeyNode, SelectionNode, Span, TagNode } from './ast.js';
import { AssetIndex, type SelectionContext } from './context.js';
import { nearestNames, selectionError, suggestionSuffix, unknownNameMessage, type SelectionDiagnostic } from './errors.js';
import { compileGlob, compileKeyPattern, fromLegacy, hasWildcard } from './match.js';
import { parseSelection } from './parser.js';

/**
 * The keys `node` selects. `text` is the expression the node was parsed from; with it,
 * errors carry the expression and a caret. An expression that selects nothing is an error.
 */
export function evaluateSelection(node: SelectionNode, ctx: SelectionContext, text?: string): Result<Set<string>> {
  const { keys, errors } = run(node, ctx, text);
  if (errors.length > 0) return fail(...errors);
  if (keys.size === 0) {
    const what = text !== undefined ? `selection '${text.trim().replace(/\s+/g, ' ')}'` : 'the selection';
    return fail(selectionError(`${what} selects no assets`, node.span, text));
  }
  return ok(keys);
}

/**
 * The problems of `text` as a definition (a job's or a schedule's `select:`): syntax, and
 * names that match nothing, job cycles. Not whether it selects anything: with `status:`
 * that depends on the runs, so `status:` is accepted here without run history.
 */
export function checkSelection(text: string, ctx: Omit<SelectionContext, 'lastStatus'>): SelectionDiagnostic[] {
  const parsed = parseSelection(text);
  if (!parsed.ok) return parsed.diagnostics;
  return run(parsed.value, { ...ctx, lastStatus: () => undefined }, text).errors;
}

function run(node: SelectionNode, ctx: SelectionContext, text: string | undefined): { keys: Set<string>; errors: SelectionDiagnostic[] } {
  const shared: Shared = { ctx, index: new AssetIndex(ctx.assets), jobResults: new Map(), jobStack: [] };
  const ev = new Evaluator(shared, text);
  const keys = ev.eval(node);
  return { keys, errors: ev.errors };
}

/** State shared by the evaluation of an expression and of the jobs it names. */
interface Shared {
  ctx: SelectionContext;
  index: AssetIndex;
  /** Job name -> its keys, or undefined when its selection had errors (already reported). */
  jobResults: Map<string, Set<string> | undefined>;
  /** Jobs being evaluated, outermost first, to catch a job that selects itself. */
  jobStack: string[];
}

/** Cycle errors name the whole path already; enclosing jobs do not prefix them. */
const unprefixed = new WeakSet<SelectionDiagnostic>();

/** Parsed job selections per jobs map, so repeated evaluations do not re-parse them. */
const parsedJobs = new WeakMap<object, Map<string, { select: string; node: Result<SelectionNode> }>>();

function parseJob(ctx: SelectionContext, name: string, select: string): Result<SelectionNode> {
  let cache = parsedJobs.get(ctx.jobs);
  if (!cache) parsedJobs.set(ctx.jobs, (cache = new Map()));
  const hit = cache.get(name);
  if (hit && hit.select === select) return hit.node;
  const node = parseSelection(select);
  cache.set(name, { select, node });
  return node;
}

/**
 * Patterns like `pattern` that match some key: each literal piece (between `/` and `*`)
 * of 3 or more characters that no key segment contains is replaced by the closest key
 * segments. At most 3.
 */
export function patternCorrections(pattern: string, keys: readonly string[]): string[] {
  const segments = new Set<string>();
  for (const k of keys) for (const seg of k.split('/')) segments.add(seg);
  const known = [...segments];
  const fix = (piece: string, whole: boolean): string[] => {
    if (piece.length < 3 || (whole ? segments.has(piece) : known.some((seg) => seg.includes(piece)))) return [piece];
    const near = nearestNames(piece, known);
    return near.length > 0 ? near : [piece];
  };
  let combos = [''];
  pattern.split('/').forEach((segment, i) => {
    const pieces = segment.split('*');
    let options = [''];
    pieces.forEach((piece, j) => {
      const fixed = fix(piece, pieces.length === 1);
      options = options.flatMap((o) => fixed.map((f) => (j === 0 ? f : `${o}*${f}`)));
    });
    combos = combos.flatMap((c) => options.map((o) => (i === 0 ? o : `${c}/${o}`))).slice(0, 20);
  });
  return combos.filter((c) => c !== pattern && keys.some(compileGlob(c))).slice(0, 3);
}

const PLURAL: Record<string, string> = { group: 'groups', kind: 'kinds', owner: 'owners', handler: 'handlers', job: 'jobs', tag: 'tags' };

class Evaluator {
  readonly errors: SelectionDiagnostic[] = [];

  constructor(
    private readonly shared: Shared,
    private readonly text: string | undefined,
  ) {}

  eval(node: SelectionNode): Set<string> {
    switch (node.type) {
      case 'key':
        return this.key(node);
      case 'attr':
        return this.attr(node);
      case 'tag':
        return this.tag(node);
      case 'not': {
        const inner = this.eval(node.operand);
        return new Set(this.shared.index.keys.filter((k) => !inner.has(k)));
      }
      case 'and': {
        // Evaluate every operand (to report every error), then intersect from the smallest.
        const sets = node.operands.map((o) => this.eval(o)).sort((a, b) => a.size - b.size);
        const [smallest, ...rest] = sets;
        return new Set([...smallest!].filter((k) => rest.every((s) => s.has(k))));
      }
      case 'or': {
        const out = new Set<string>();
        for (const o of node.operands) for (const k of this.eval(o)) out.add(k);
        return out;
      }
      case 'graph': {
        const base = this.eval(node.operand);
        const out = new Set(base);
        const { graph } = this.shared.ctx;
        if (node.up !== undefined) for (const k of graph.ancestors(base, node.up)) out.add(k);
        if (node.down !== undefined) for (const k of graph.descendants(base, node.down)) out.add(k);
        return out;
      }
      case 'function': {
        const inner = this.eval(node.operand);
        return node.name === 'roots' ? this.shared.ctx.graph.roots(inner) : this.shared.ctx.graph.sinks(inner);
      }
    }
  }

  private key(node: KeyNode): Set<string> {
    const { index } = this.shared;
    const p = node.pattern;
    const out = new Set<string>();
    if (!hasWildcard(p)) {
      // Direct lookups: `+X` on a large graph must not scan every key.
      if (index.has(p)) out.add(p);
      const legacy = fromLegacy(p);
      if (legacy !== p && index.has(legacy)) out.add(legacy);
      if (out.size === 0) this.error(`unknown asset key '${p}'${this.keySuggestions(p)}`, node.span);
      return out;
    }
    const match = compileKeyPattern(p);
    for (const k of index.keys) if (match(k)) out.add(k);
    if (out.size === 0) this.error(`no asset key matches '${p}'${this.keySuggestions(p)}`, node.span);
    return out;
  }

  /** `NAME/*` when keys live under it, `group:NAME` when it is a group, else the closest keys. */
  private keySuggestions(p: string): string {
    const { index } = this.shared;
    const target = fromLegacy(p);
    const out: string[] = [];
    if (!hasWildcard(target)) {
      if (index.keys.some((k) => k.startsWith(`${target}/`))) out.push(`${target}/*`);
      if (index.byValue('group').has(target)) out.push(`group:${target}`);
    }
    // A typo in a pattern (`openmetdata/*`): the pattern with its pieces corrected.
    else out.push(...patternCorrections(target, index.keys));
    // `raw` for `raw/*` or `group:raw` is the likely slip; keys merely containing it add noise.
    if (out.length === 0) out.push(...nearestNames(target.replaceAll('*', ''), index.keys));
    return suggestionSuffix(out);
  }

  private attr(node: AttributeNode): Set<string> {
    if (node.name === 'job') return this.job(node);
    if (node.name === 'status') return this.status(node);
    const table = this.shared.index.byValue(node.name);
    const names = this.matchNames(table, node.value);
    if (names.length === 0) {
      this.error(unknownNameMessage(node.name, PLURAL[node.name]!, node.value, [...table.keys()], hasWildcard(node.value)), node.valueSpan);
    }
    const out = new Set<string>();
    for (const n of names) for (const k of table.get(n)!) out.add(k);
    return out;
  }

  private tag(node: TagNode): Set<string> {
    const table = this.shared.index.tags();
    const names = this.matchNames(table, node.name);
    const out = new Set<string>();
    if (names.length === 0) {
      this.error(unknownNameMessage('tag', 'tags', node.name, [...table.keys()], hasWildcard(node.name)), node.valueSpan);
      return out;
    }
    const valueMatch = node.value === undefined ? undefined : compileGlob(node.value);
    for (const n of names) {
      for (const [value, keys] of table.get(n)!) {
        if (!valueMatch || valueMatch(value)) for (const k of keys) out.add(k);
      }
    }
    if (out.size === 0) {
      const pairs = names.flatMap((n) => [...table.get(n)!.keys()].map((v) => `${n}=${v}`));
      const written = `${node.name}=${node.value}`;
      const near = nearestNames(written, pairs);
      const hint = near.length > 0 ? suggestionSuffix(near) : pairs.length <= 10 ? `; tags: ${pairs.sort().join(', ')}` : '';
      this.error(`no asset has tag '${written}'${hint}`, node.valueSpan);
    }
    return out;
  }

  private status(node: AttributeNode): Set<string> {
    const { lastStatus } = this.shared.ctx;
    const out = new Set<string>();
    if (!lastStatus) {
      this.error(`'status:' needs the last run of each asset, which is not available here`, node.span);
      return out;
    }
    for (const k of this.shared.index.keys) if (lastStatus(k) === node.value) out.add(k);
    return out;
  }

  private job(node: AttributeNode): Set<string> {
    const { ctx, jobResults, jobStack } = this.shared;
    const name = node.value;
    const job = ctx.jobs.get(name);
    if (!job) {
      this.error(unknownNameMessage('job', 'jobs', name, [...ctx.jobs.keys()]), node.valueSpan);
      return new Set();
    }
    if (jobStack.includes(name)) {
      const path = [...jobStack.slice(jobStack.indexOf(name)), name].join(' -> ');
      unprefixed.add(this.error(`job '${name}' selects itself: ${path}`, node.span));
      return new Set();
    }
    if (jobResults.has(name)) return new Set(jobResults.get(name) ?? []);
    const parsed = parseJob(ctx, name, job.select);
    if (!parsed.ok) {
      for (const d of parsed.diagnostics) this.errors.push({ ...d, message: `job '${name}' has an invalid selection: ${d.message}` });
      jobResults.set(name, undefined);
      return new Set();
    }
    jobStack.push(name);
    const sub = new Evaluator(this.shared, job.select);
    const keys = sub.eval(parsed.value);
    jobStack.pop();
    for (const d of sub.errors) this.errors.push(unprefixed.has(d) ? d : { ...d, message: `in job '${name}': ${d.message}` });
    jobResults.set(name, sub.errors.length > 0 ? undefined : keys);
    return new Set(keys);
  }

  /** The names of `table` that `pattern` matches (a literal matches itself if present). */
  private matchNames(table: ReadonlyMap<string, unknown>, pattern: string): string[] {
    if (!hasWildcard(pattern)) return table.has(pattern) ? [pattern] : [];
    const match = compileGlob(pattern);
    return [...table.keys()].filter(match);
  }

  private error(message: string, span: Span): SelectionDiagnostic {
    const d = selectionError(message, span, this.text);
    this.errors.push(d);
    return d;
  }
}
