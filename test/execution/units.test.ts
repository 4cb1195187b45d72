import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AssetGraph } from '../../src/graph/asset-graph.js';
import { buildPlan, renderStep, validatePlan } from '../../src/execution/plan.js';
import { retryDelayMs } from '../../src/execution/retry.js';
import { LineSplitter } from '../../src/execution/line-splitter.js';
import { getHandler, handlerNames } from '../../src/handlers/registry.js';
import { asset } from './helpers.js';

function setup(deps: Record<string, string[]>) {
  const assets = new Map(Object.entries(deps).map(([k, d]) => [k, asset(k, ['true'], { deps: d })]));
  return { assets, graph: new AssetGraph(new Map(Object.entries(deps))) };
}

describe('plan', () => {
  it('orders steps by dependency and waits through assets left out of the selection', () => {
    const { assets, graph } = setup({ a: [], b: ['a'], c: ['b'], d: [], e: ['c', 'd'] });
    const plan = buildPlan(['e', 'a', 'c'], assets, graph);
    expect(plan.steps.map((s) => s.key)).toEqual(['a', 'c', 'e']);
    expect(plan.byKey.get('c')!.upstream).toEqual(['a']); // through b
    expect(plan.byKey.get('e')!.upstream).toEqual(['c']); // d is not selected and has no selected ancestor
    expect(plan.byKey.get('a')!.downstream).toEqual([1]);
  });

  it('every step comes after all the steps it waits for (random graphs)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(30), { maxLength: 4 }), { minLength: 1, maxLength: 30 }), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), (parents, pick) => {
        // Key i depends only on smaller keys: acyclic by construction.
        const deps: Record<string, string[]> = {};
        parents.forEach((ps, i) => (deps[`k${String(i).padStart(2, '0')}`] = ps.filter((p) => p < i).map((p) => `k${String(p).padStart(2, '0')}`)));
        const { assets, graph } = setup(deps);
        const keys = Object.keys(deps).filter((_, i) => pick[i]);
        const plan = buildPlan(keys, assets, graph);
        expect(plan.steps.map((s) => s.key).sort()).toEqual([...keys].sort());
        const at = new Map(plan.steps.map((s, i) => [s.key, i]));
        for (const s of plan.steps) {
          for (const u of s.upstream) expect(at.get(u)!).toBeLessThan(at.get(s.key)!);
          // Every selected ancestor is waited for, directly or through another step.
          const reach = new Set<string>();
          const walk = (k: string) => plan.byKey.get(k)!.upstream.forEach((u) => (reach.has(u) ? 0 : (reach.add(u), walk(u))));
          walk(s.key);
          for (const anc of graph.ancestors([s.key])) if (at.has(anc)) expect(reach.has(anc)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('reports unknown handlers, undefined pools and references that cannot be substituted', () => {
    const assets = new Map([
      ['x', asset('x', ['true'], { handler: 'nope' })],
      ['y', asset('y', ['true'], { pool: 'missing' })],
      ['z', asset('z', [], { config: { run: ['echo', '${env:RUNNER_TEST_SURELY_UNSET}', '${var:v}', '${secret:s}'] } })],
    ]);
    const graph = new AssetGraph(new Map([...assets.keys()].map((k) => [k, []])));
    const plan = buildPlan(assets.keys(), assets, graph);
    const ds = validatePlan(plan, { handler: getHandler, env: { name: 'dev', vars: {}, openmetadata: {} }, processEnv: {}, pools: { cli: 1 } });
    const messages = ds.map((d) => d.message);
    expect(messages).toContain('asset `x`: unknown handler `nope`');
    expect(messages).toContain('asset `y`: pool `missing` is not defined under runner.pools (defined: cli)');
    expect(messages.some((m) => m.startsWith('asset `z`: config.run.1: environment variable RUNNER_TEST_SURELY_UNSET is not set'))).toBe(true);
    expect(messages).toContain('asset `z`: config.run.2: variable `v` is not defined in this environment');
    expect(messages.some((m) => m.includes('secret'))).toBe(false); // secrets are resolved at run time
    expect(ds.every((d) => d.pos?.file === 'test.yaml')).toBe(true);
  });

  it('renders a step with its secrets masked', () => {
    const a = asset('s', [], { config: { run: ['tool', '--url', '${var:url}'], env: { TOKEN: '${secret:tok}', MODE: 'fast' } } });
    const { graph } = setup({ s: [] });
    const plan = buildPlan(['s'], new Map([['s', a]]), graph);
    const r = renderStep(plan.steps[0]!, getHandler('command')!, { name: 'dev', vars: { url: 'http://x' }, openmetadata: {} }, '/p', {});
    expect(r).toEqual({ command: ['tool', '--url', 'http://x'], env: { TOKEN: '***', MODE: 'fast' } });
  });

  it('knows the command handler', () => {
    expect(handlerNames()).toContain('command');
    expect(getHandler('command')!.schema).toMatchObject({ title: 'CommandConfig' });
  });
});

describe('retry delays', () => {
  const policy = { attempts: 5, delayMs: 1000, maxDelayMs: 5000, jitter: false } as const;
  it('fixed waits the same each time; exponential doubles up to the cap', () => {
    expect([1, 2, 3].map((n) => retryDelayMs({ ...policy, backoff: 'fixed' }, n))).toEqual([1000, 1000, 1000]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs({ ...policy, backoff: 'exponential' }, n))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
  it('jitter stays within ±20%', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.integer({ min: 1, max: 6 }), (r, n) => {
        const base = retryDelayMs({ ...policy, backoff: 'exponential' }, n);
        const d = retryDelayMs({ ...policy, backoff: 'exponential', jitter: true }, n, () => r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
        expect(d).toBeLessThanOrEqual(Math.ceil(base * 1.2));
      }),
    );
  });
});

describe('line splitter', () => {
  const split = (chunks: Array<Buffer | string>, max?: number) => {
    const out: Array<[string, boolean]> = [];
    const s = new LineSplitter((l, p) => out.push([l, p]), max);
    for (const c of chunks) s.push(c);
    s.end();
    return out;
  };

  it('splits on newlines across chunks and flushes a last line without one', () => {
    expect(split(['a\nb', 'c\n\nd'])).toEqual([
      ['a', false],
      ['bc', false],
      ['', false],
      ['d', true],
    ]);
  });

  it('keeps multi-byte characters whole when a chunk boundary splits them', () => {
    const bytes = Buffer.from('é€😀\n');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    expect(split(chunks)).toEqual([['é€😀', false]]);
  });

  it('cuts long lines into pieces that rebuild the line, never inside a surrogate pair', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { maxLength: 20 }), fc.integer({ min: 2, max: 16 }), (parts, max) => {
        const text = parts.join('');
        const out = split([Buffer.from(text)], max);
        let rebuilt = '';
        for (const [l, partial] of out) {
          expect(l.length).toBeLessThanOrEqual(max);
          expect(l).toBe(Buffer.from(l).toString()); // valid text on its own
          rebuilt += l + (partial ? '' : '\n');
        }
        expect(rebuilt).toBe(text);
      }),
    );
  });
});
