/**
 * Property-based tests: the parser never crashes, and evaluation agrees with a reference
 * semantics (set algebra and graph walks written independently here) on random DAGs.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatSelection, parseSelection, select, type SelectionContext } from '../../src/selection/index.js';
import { makeContext, type TestAsset } from './helpers.js';

// ---------------------------------------------------------------------------------------
// Never crash

const SOUP = [
  'a', 'raw/a', 'x/y/z', '*', 'a*', '*/b', 'and', 'AND', 'or', 'OR', 'not', 'NOT', 'And', ',', '(', ')', '+', '2', '2+', '+1', '0',
  'key:', 'group:', 'group:g1', 'tag:', 'tag:t=x', 'tag:"t=y"', '=', '"', '"x y"', '""', '\\', 'roots(', 'sinks(', 'roots', 'root(',
  'job:j', 'job:loop', 'job:', 'status:failure', 'status:failed', 'status:', ':', '&', '|', '!', "'", ';', '__', 'a__b', '\t', '\n',
  '99999999999999999999', '1.5', 'grop:x', '🚀', 'é', 'owner:o@x.org', 'kind:k', 'handler:command',
];

const soup = fc
  .array(fc.tuple(fc.constantFrom(...SOUP), fc.constantFrom('', ' ', '  ')), { maxLength: 25 })
  .map((parts) => parts.map(([t, sep]) => t + sep).join(''));

const SOUP_CTX = makeContext(
  [
    { key: 'a', group: 'g1', tags: { t: 'x' }, kinds: ['k'], owners: ['o@x.org'] },
    { key: 'raw/a', group: 'g2', deps: ['a'], tags: { t: 'y' } },
    { key: 'x/y/z', deps: ['raw/a', 'a'] },
    { key: 'a/b', deps: ['x/y/z'] },
  ],
  { j: 'a or raw/a', loop: 'job:loop2', loop2: 'job:loop or a', bad: 'a and (' },
  { a: 'failure', 'raw/a': 'success' },
);

/** Checks the invariants every outcome of `select` must keep. */
function checkOutcome(text: string, ctx: SelectionContext): void {
  const parsed = parseSelection(text);
  expect(typeof parsed.ok).toBe('boolean');
  if (parsed.ok) {
    // What parses prints back to something that parses to the same canonical text.
    const canon = formatSelection(parsed.value);
    const again = parseSelection(canon);
    expect(again.ok && formatSelection(again.value)).toBe(canon);
  }
  const r = select(text, ctx);
  if (r.ok) {
    expect(r.value.length).toBeGreaterThan(0);
    expect(new Set(r.value).size).toBe(r.value.length);
    return;
  }
  expect(r.diagnostics.length).toBeGreaterThan(0);
  for (const d of r.diagnostics) {
    expect(d.message).toMatch(/\S/);
    if (d.detail) {
      expect(d.detail).toHaveLength(2);
      expect(d.detail[1]).toMatch(/^ +\^+$/);
    }
  }
}

describe('the parser and evaluator never throw', () => {
  test('on token soups', () => {
    fc.assert(fc.property(soup, (text) => checkOutcome(text, SOUP_CTX)), { numRuns: 3000 });
  });

  test('on random ASCII strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (text) => checkOutcome(text, SOUP_CTX)), { numRuns: 2000 });
  });

  test('on random unicode strings, lone surrogates included', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => checkOutcome(text, SOUP_CTX)), { numRuns: 1000 });
  });
});

// ---------------------------------------------------------------------------------------
// Agreement with a reference semantics on random DAGs

/** A random project: node i is `DIR/n<i>` and may depend on nodes before it. */
interface Dag {
  keys: string[];
  parents: number[][];
  groups: string[];
  tags: string[];
}

const dagArb: fc.Arbitrary<Dag> = fc.integer({ min: 1, max: 18 }).chain((n) =>
  fc
    .record({
      dirs: fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: n, maxLength: n }),
      edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 2 * n }),
      groups: fc.array(fc.constantFrom('g1', 'g2', 'g3'), { minLength: n, maxLength: n }),
      tags: fc.array(fc.constantFrom('x', 'y'), { minLength: n, maxLength: n }),
    })
    .map(({ dirs, edges, groups, tags }) => {
      const parents: number[][] = Array.from({ length: n }, () => []);
      for (const [i, j] of edges) if (i !== j) parents[Math.max(i, j)]!.push(Math.min(i, j));
      return { keys: dirs.map((d, i) => `${d}/n${i}`), parents: parents.map((p) => [...new Set(p)]), groups, tags };
    }),
);

function dagContext(dag: Dag): SelectionContext {
  const assets: TestAsset[] = dag.keys.map((key, i) => ({
    key,
    group: dag.groups[i]!,
    tags: { t: dag.tags[i]! },
    deps: dag.parents[i]!.map((p) => dag.keys[p]!),
  }));
  return makeContext(assets);
}

/** Expressions over a DAG's nodes; atoms name only things that exist, so they never error. */
type Expr =
  | { t: 'key'; i: number; legacy: boolean; quoted: boolean }
  | { t: 'dir'; i: number }
  | { t: 'group'; i: number }
  | { t: 'tag'; i: number; withValue: boolean }
  | { t: 'all' }
  | { t: 'not'; e: Expr; upper: boolean }
  | { t: 'and'; a: Expr; b: Expr; upper: boolean }
  | { t: 'or'; a: Expr; b: Expr; op: 'or' | 'OR' | ',' }
  | { t: 'graph'; e: Expr; up: number | 'all' | null; down: number | 'all' | null }
  | { t: 'fn'; name: 'roots' | 'sinks'; e: Expr };

const depthArb = fc.oneof(fc.constant<'all'>('all'), fc.nat(4), fc.constant(null));

function exprArb(n: number): fc.Arbitrary<Expr> {
  const node = fc.nat(n - 1);
  const atom = fc.oneof(
    fc.record({ t: fc.constant('key' as const), i: node, legacy: fc.boolean(), quoted: fc.boolean() }),
    fc.record({ t: fc.constant('dir' as const), i: node }),
    fc.record({ t: fc.constant('group' as const), i: node }),
    fc.record({ t: fc.constant('tag' as const), i: node, withValue: fc.boolean() }),
    fc.constant({ t: 'all' as const }),
  );
  const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      atom,
      fc.record({ t: fc.constant('not' as const), e: tie('expr'), upper: fc.boolean() }),
      fc.record({ t: fc.constant('and' as const), a: tie('expr'), b: tie('expr'), upper: fc.boolean() }),
      fc.record({ t: fc.constant('or' as const), a: tie('expr'), b: tie('expr'), op: fc.constantFrom('or' as const, 'OR' as const, ',' as const) }),
      fc.record({ t: fc.constant('graph' as const), e: tie('expr'), up: depthArb, down: depthArb }),
      fc.record({ t: fc.constant('fn' as const), name: fc.constantFrom('roots' as const, 'sinks' as const), e: tie('expr') }),
    ),
  }));
  return expr;
}

/** The expression as text, every compound operand in parentheses. */
function print(e: Expr, dag: Dag): string {
  const p = (x: Expr) => (x.t === 'key' || x.t === 'dir' || x.t === 'group' || x.t === 'tag' || x.t === 'all' ? print(x, dag) : `(${print(x, dag)})`);
  switch (e.t) {
    case 'key': {
      const k = e.legacy ? dag.keys[e.i]!.replace('/', '__') : dag.keys[e.i]!;
      return e.quoted ? `key:"${k}"` : k;
    }
    case 'dir':
      return `${dag.keys[e.i]!.split('/')[0]}/*`;
    case 'group':
      return `group:${dag.groups[e.i]}`;
    case 'tag':
      return e.withValue ? `tag:t=${dag.tags[e.i]}` : 'tag:t';
    case 'all':
      return '*';
    case 'not':
      return `${e.upper ? 'NOT' : 'not'} ${p(e.e)}`;
    case 'and':
      return `${p(e.a)} ${e.upper ? 'AND' : 'and'} ${p(e.b)}`;
    case 'or':
      return e.op === ',' ? `${p(e.a)}, ${p(e.b)}` : `${p(e.a)} ${e.op} ${p(e.b)}`;
    case 'graph': {
      const up = e.up === null ? '' : e.up === 'all' ? '+' : `${e.up}+`;
      const down = e.down === null ? '' : e.down === 'all' ? '+' : `+${e.down}`;
      return `${up}${p(e.e)}${down}`;
    }
    case 'fn':
      return `${e.name}(${print(e.e, dag)})`;
  }
}

/** Nodes reachable through `next` within `depth` steps (the start nodes only when reached). */
function reach(start: Set<number>, next: (i: number) => number[], depth: number): Set<number> {
  const out = new Set<number>();
  let frontier = [...start];
  for (let level = 0; level < depth && frontier.length > 0; level++) {
    const nextFrontier: number[] = [];
    for (const i of frontier) for (const j of next(i)) if (!out.has(j)) (out.add(j), nextFrontier.push(j));
    frontier = nextFrontier;
  }
  return out;
}

const children = (dag: Dag) => (i: number) => dag.parents.flatMap((ps, c) => (ps.includes(i) ? [c] : []));

/** The reference semantics: node indexes an expression selects. */
function reference(e: Expr, dag: Dag): Set<number> {
  const all = dag.keys.map((_, i) => i);
  const where = (f: (i: number) => boolean) => new Set(all.filter(f));
  switch (e.t) {
    case 'key':
      return new Set([e.i]);
    case 'dir':
      return where((i) => dag.keys[i]!.startsWith(dag.keys[e.i]!.split('/')[0] + '/'));
    case 'group':
      return where((i) => dag.groups[i] === dag.groups[e.i]);
    case 'tag':
      return e.withValue ? where((i) => dag.tags[i] === dag.tags[e.i]) : new Set(all);
    case 'all':
      return new Set(all);
    case 'not': {
      const s = reference(e.e, dag);
      return where((i) => !s.has(i));
    }
    case 'and': {
      const a = reference(e.a, dag);
      const b = reference(e.b, dag);
      return where((i) => a.has(i) && b.has(i));
    }
    case 'or':
      return new Set([...reference(e.a, dag), ...reference(e.b, dag)]);
    case 'graph': {
      const s = reference(e.e, dag);
      const out = new Set(s);
      if (e.up !== null) for (const i of reach(s, (i) => dag.parents[i]!, e.up === 'all' ? Infinity : e.up)) out.add(i);
      if (e.down !== null) for (const i of reach(s, children(dag), e.down === 'all' ? Infinity : e.down)) out.add(i);
      return out;
    }
    case 'fn': {
      const s = reference(e.e, dag);
      return e.name === 'roots' ? where((i) => s.has(i) && !dag.parents[i]!.some((p) => s.has(p))) : where((i) => s.has(i) && !children(dag)(i).some((c) => s.has(c)));
    }
  }
}

/** What `select` returns for `text`, as a sorted key list; an empty selection is []. */
function evaluated(text: string, ctx: SelectionContext): string[] {
  const r = select(text, ctx);
  if (r.ok) return [...r.value].sort();
  if (r.diagnostics.length === 1 && r.diagnostics[0]!.message.endsWith('selects no assets')) return [];
  throw new Error(`${text}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
}

const keysOf = (s: Set<number>, dag: Dag) => [...s].map((i) => dag.keys[i]!).sort();

const caseArb = dagArb.chain((dag) => fc.record({ dag: fc.constant(dag), a: exprArb(dag.keys.length), b: exprArb(dag.keys.length) }));

describe('evaluation agrees with set algebra and graph walks on random DAGs', () => {
  test('any expression selects what the reference semantics says', () => {
    fc.assert(
      fc.property(caseArb, ({ dag, a }) => {
        const text = print(a, dag);
        expect(evaluated(text, dagContext(dag))).toEqual(keysOf(reference(a, dag), dag));
      }),
      { numRuns: 500 },
    );
  });

  test('A or B, A, B, A and B, not A are union, union, intersection and complement', () => {
    fc.assert(
      fc.property(caseArb, ({ dag, a, b }) => {
        const ctx = dagContext(dag);
        const A = `(${print(a, dag)})`;
        const B = `(${print(b, dag)})`;
        const sa = new Set(evaluated(A, ctx));
        const sb = new Set(evaluated(B, ctx));
        expect(evaluated(`${A} or ${B}`, ctx)).toEqual([...new Set([...sa, ...sb])].sort());
        expect(evaluated(`${A}, ${B}`, ctx)).toEqual(evaluated(`${A} or ${B}`, ctx));
        expect(evaluated(`${A} and ${B}`, ctx)).toEqual([...sa].filter((k) => sb.has(k)).sort());
        expect(evaluated(`not ${A}`, ctx)).toEqual(dag.keys.filter((k) => !sa.has(k)).sort());
      }),
      { numRuns: 300 },
    );
  });

  test('+X and X+ (with and without depths) are X plus its ancestors / descendants', () => {
    const arb = dagArb.chain((dag) =>
      fc.record({ dag: fc.constant(dag), xs: fc.uniqueArray(fc.nat(dag.keys.length - 1), { minLength: 1, maxLength: 4 }), depth: fc.integer({ min: 1, max: 5 }) }),
    );
    fc.assert(
      fc.property(arb, ({ dag, xs, depth }) => {
        const ctx = dagContext(dag);
        const X = `(${xs.map((i) => dag.keys[i]).join(' or ')})`;
        const start = new Set(xs);
        const up = (d: number) => keysOf(new Set([...start, ...reach(start, (i) => dag.parents[i]!, d)]), dag);
        const down = (d: number) => keysOf(new Set([...start, ...reach(start, children(dag), d)]), dag);
        expect(evaluated(`+${X}`, ctx)).toEqual(up(Infinity));
        expect(evaluated(`${X}+`, ctx)).toEqual(down(Infinity));
        expect(evaluated(`${depth}+${X}`, ctx)).toEqual(up(depth));
        expect(evaluated(`${X}+${depth}`, ctx)).toEqual(down(depth));
        expect(evaluated(`${depth}+${X}+${depth}`, ctx)).toEqual([...new Set([...up(depth), ...down(depth)])].sort());
      }),
      { numRuns: 300 },
    );
  });

  test('the result is in topological order: no key comes before one of its parents', () => {
    fc.assert(
      fc.property(caseArb, ({ dag, a }) => {
        const r = select(print(a, dag), dagContext(dag));
        if (!r.ok) return;
        const pos = new Map(r.value.map((k, i) => [k, i]));
        for (const [i, ps] of dag.parents.entries()) {
          for (const p of ps) if (pos.has(dag.keys[i]!) && pos.has(dag.keys[p]!)) expect(pos.get(dag.keys[p]!)!).toBeLessThan(pos.get(dag.keys[i]!)!);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('printing a parsed expression and parsing it again selects the same keys', () => {
    fc.assert(
      fc.property(caseArb, ({ dag, a }) => {
        const text = print(a, dag);
        const parsed = parseSelection(text);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        expect(evaluated(formatSelection(parsed.value), dagContext(dag))).toEqual(evaluated(text, dagContext(dag)));
      }),
      { numRuns: 200 },
    );
  });
});
