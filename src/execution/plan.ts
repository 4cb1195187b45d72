/**
 * The plan: the selected assets as steps in dependency order, each with the steps it
 * waits for. A step waits for its nearest selected ancestors, also through assets left out
 * of the selection (with `a -> b -> c` and `a`, `c` selected, `c` still runs after `a`).
 * Checking a plan finds everything that would make a run fail before it starts (an unknown
 * handler or pool, a reference that cannot be substituted), so bad input records nothing.
 */
import type { AssetDef } from '../definitions/model.js';
import type { AssetGraph } from '../graph/asset-graph.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Handler, Rendered } from '../handlers/handler.js';
import { substituteDeep, type Scope } from '../definitions/interpolate.js';

/** One step of a plan. */
export interface PlanStep {
  key: string;
  asset: AssetDef;
  /** Position in the plan. */
  index: number;
  /** Keys of the steps this one waits for. */
  upstream: string[];
  /** Indexes of the steps that wait for this one. */
  downstream: number[];
}

/** Steps in a dependency order (deterministic: ties broken by key). */
export interface Plan {
  steps: PlanStep[];
  byKey: Map<string, PlanStep>;
}

/** Builds the plan of `keys` (unknown keys are ignored; the selection only yields known ones). */
export function buildPlan(keys: Iterable<string>, assets: ReadonlyMap<string, AssetDef>, graph: AssetGraph): Plan {
  const selected = new Set([...keys].filter((k) => assets.has(k)));
  const order = graph.order(selected);
  // Nearest selected ancestors of an unselected asset, memoised: shared by all its descendants.
  const through = new Map<string, string[]>();
  const nearest = (key: string): string[] => {
    const memo = through.get(key);
    if (memo) return memo;
    const out = new Set<string>();
    for (const p of graph.parents(key)) {
      if (selected.has(p)) out.add(p);
      else for (const q of nearest(p)) out.add(q);
    }
    const list = [...out];
    through.set(key, list);
    return list;
  };
  const steps: PlanStep[] = order.map((key, index) => {
    const up = new Set<string>();
    for (const p of graph.parents(key)) {
      if (selected.has(p)) up.add(p);
      else for (const q of nearest(p)) up.add(q);
    }
    return { key, asset: assets.get(key)!, index, upstream: [...up], downstream: [] };
  });
  const byKey = new Map(steps.map((s) => [s.key, s]));
  for (const s of steps) for (const u of s.upstream) byKey.get(u)!.downstream.push(s.index);
  return { steps, byKey };
}

/** The substitution scope of a step's config. */
export function configScope(env: ResolvedEnvironment, processEnv: Record<string, string | undefined>, secrets: Scope['secrets']): Scope {
  return { env: processEnv, vars: env.vars, secrets };
}

/** What `validatePlan` needs to know. */
export interface PlanCheckContext {
  handler: (name: string) => Handler<any> | undefined;
  env: ResolvedEnvironment;
  processEnv: Record<string, string | undefined>;
  /** Pool limits from the pipeline files. */
  pools: Record<string, number>;
}

/**
 * Everything that would fail every attempt of a step, found before the run starts: an
 * unknown handler, an undefined pool, a `${env:..}` or `${var:..}` that cannot be
 * substituted. Secrets are not resolved here (they are masked).
 */
export function validatePlan(plan: Plan, ctx: PlanCheckContext): Diagnostic[] {
  const ds: Diagnostic[] = [];
  for (const { asset } of plan.steps) {
    if (!ctx.handler(asset.handler)) ds.push({ pos: asset.pos, message: `asset \`${asset.key}\`: unknown handler \`${asset.handler}\`` });
    if (asset.pool !== undefined && ctx.pools[asset.pool] === undefined) {
      const known = Object.keys(ctx.pools);
      ds.push({ pos: asset.pos, message: `asset \`${asset.key}\`: pool \`${asset.pool}\` is not defined under runner.pools (defined: ${known.join(', ') || 'none'})` });
    }
    const r = substituteDeep(asset.config, configScope(ctx.env, ctx.processEnv, 'mask'));
    for (const e of r.errors) ds.push({ pos: asset.pos, message: `asset \`${asset.key}\`: config.${e.path.join('.')}: ${e.message}` });
  }
  return ds;
}

/** What a step would run, secrets shown as `***` (for `--dry-run`). */
export function renderStep(step: PlanStep, handler: Handler<any>, env: ResolvedEnvironment, projectDir: string, processEnv: Record<string, string | undefined>): Rendered {
  const config = substituteDeep(step.asset.config, configScope(env, processEnv, 'mask')).value;
  return handler.render({ asset: step.asset, config, env, projectDir });
}

/** What a step gets from `--retries N` when its asset has no retry policy (the schema's defaults). */
const DEFAULT_POLICY = { backoff: 'fixed', delayMs: 10_000, maxDelayMs: 3_600_000, jitter: true } as const;

/**
 * The plan with every step's attempts set to `retries + 1` for one run (`--retries N`;
 * 0: no retry). An asset's own backoff, delay and jitter stay; one without a policy gets
 * the schema's defaults. The definitions are not changed.
 */
export function withRetries(plan: Plan, retries: number): Plan {
  const steps = plan.steps.map((s) => ({ ...s, asset: { ...s.asset, retry: { ...DEFAULT_POLICY, ...s.asset.retry, attempts: retries + 1 } } }));
  return { steps, byKey: new Map(steps.map((s) => [s.key, s])) };
}
