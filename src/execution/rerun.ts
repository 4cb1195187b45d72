/**
 * Re-executing a run from its failure (`runner retry`, the web UI's "Re-run failed"), as
 * Dagster's "re-execute from failure" and `dbt retry` do: the steps of a finished run that
 * did not succeed (failed, skipped, canceled, or never started, also those of a run whose
 * runner died), planned anew from the current pipeline files in dependency order, in the
 * run's environment, recorded with the trigger `retry of RUN_ID`. Steps that succeeded
 * are not run again; a retried step whose upstream succeeded in the first run starts at once.
 */
import { type Diagnostic, type Result, fail, ok } from '../diagnostics/diagnostic.js';
import { resolveEnvironment, resolveEnvironmentDef, type ResolvedEnvironment } from '../definitions/environment.js';
import type { Definitions } from '../definitions/model.js';
import type { RunRecord, Trigger } from '../storage/types.js';
import { isFinished } from '../storage/types.js';
import { didYouMean } from '../util/suggest.js';
import { planRun, type PlannedRun } from './launch.js';

/**
 * Why a run cannot be retried: `conflict` when its state forbids it (still running, or
 * nothing left to run), `definitions` when the pipeline files no longer fit it.
 */
export interface RetryRefusal {
  kind: 'conflict' | 'definitions';
  diagnostics: Diagnostic[];
}

/** A retry ready to launch: its plan, environment and trigger. */
export interface PlannedRetry extends PlannedRun {
  env: ResolvedEnvironment;
  trigger: Trigger;
  /** The keys of the run's steps that did not succeed, in the run's order. */
  keys: string[];
}

/** The keys of the steps to run again, or why there are none (exit 2 / HTTP 409). */
export function stepsToRetry(run: RunRecord): Result<string[]> {
  const short = run.id.slice(0, 8);
  if (!isFinished(run.status)) {
    return fail({ message: `run ${short} is still ${run.status === 'queued' ? 'queued' : 'running'}: wait for it to finish or cancel it, then retry it` });
  }
  const keys = run.steps.filter((s) => s.status !== 'success').map((s) => s.key);
  if (run.status === 'success') return fail({ message: `run ${short} succeeded: there is nothing to retry (run it again with \`runner materialize\`)` });
  if (keys.length === 0) return fail({ message: `every step of run ${short} succeeded: there is nothing to retry${run.error ? ` (the run ended ${run.status}: ${run.error})` : ''}` });
  return ok(keys);
}

/**
 * The environment of a retry: `--env` when given, else the run's own (RUNNER_ENV and
 * DAGSTER_ENV do not apply: a retry repeats the run).
 */
export function retryEnvironment(defs: Definitions, run: RunRecord, flag: string | undefined, processEnv: Record<string, string | undefined>): Result<ResolvedEnvironment> {
  if (flag) return resolveEnvironment(defs, flag, processEnv);
  const def = defs.environments.get(run.env);
  if (def) return resolveEnvironmentDef(def, processEnv);
  // A project without environments runs in an empty one named `default`.
  if (defs.environments.size === 0 && run.env === 'default') return resolveEnvironment(defs, undefined, {});
  const known = [...defs.environments.keys()];
  return fail({
    message: `run ${run.id.slice(0, 8)} ran in environment \`${run.env}\`, which the pipeline files no longer define${didYouMean(run.env, known)}: pass --env NAME (defined: ${known.join(', ') || 'none'})`,
  });
}

/** What planning a retry needs besides the run. */
export interface RetryPlanOptions {
  /** `--env`; default: the run's environment. */
  env?: string;
  processEnv?: Record<string, string | undefined>;
}

/**
 * Plans the retry of `run` with the current definitions: the steps that did not succeed,
 * each checked as `runner materialize` checks a plan. Refuses a run that is unfinished or
 * has nothing to retry (`conflict`), and one whose steps' assets the pipeline files no
 * longer define, naming them (`definitions`).
 */
export function planRetry(defs: Definitions, run: RunRecord, opts: RetryPlanOptions = {}): RetryPlan {
  const processEnv = opts.processEnv ?? process.env;
  const keys = stepsToRetry(run);
  if (!keys.ok) return refuse('conflict', keys.diagnostics);
  const missing = keys.value.filter((k) => !defs.assets.has(k));
  if (missing.length > 0) {
    const names = missing.map((k) => `\`${k}\``).join(', ');
    const detail = missing.map((k) => didYouMean(k, defs.assets.keys())).some((s) => s !== '') ? missing.map((k) => `  ${k}${didYouMean(k, defs.assets.keys())}`) : undefined;
    return refuse('definitions', [
      {
        message: `cannot retry run ${run.id.slice(0, 8)}: the pipeline files in ${defs.dir} no longer define ${missing.length === 1 ? 'the asset' : `${missing.length} assets`} of ${missing.length === 1 ? 'a step' : 'steps'} to retry: ${names}`,
        ...(detail ? { detail } : {}),
      },
    ]);
  }
  const env = retryEnvironment(defs, run, opts.env, processEnv);
  if (!env.ok) return refuse('definitions', env.diagnostics);
  const planned = planRun(defs, env.value, { keys: keys.value, selection: keys.value.join(' or '), ...(run.job ? { job: run.job } : {}) }, { processEnv });
  if (!planned.ok) return refuse('definitions', planned.diagnostics);
  return { ok: true, value: { ...planned.value, env: env.value, trigger: { type: 'retry', retry_of: run.id }, keys: keys.value } };
}

/** A planned retry, or why there is none. */
export type RetryPlan = { ok: true; value: PlannedRetry } | { ok: false; refusal: RetryRefusal };

function refuse(kind: RetryRefusal['kind'], diagnostics: Diagnostic[]): RetryPlan {
  return { ok: false, refusal: { kind, diagnostics } };
}
