/**
 * Starting a run in this process: the one path that `runner materialize`, the schedules
 * of `runner serve` and the web UI's launch button share. Planning turns a job or a
 * selection into checked steps (bad input is a Result, nothing recorded); launching
 * records the run, plugs in the run's secrets (resolver, masker) and its alert, and
 * executes the plan on one event stream. A run the executor hands over (serve stopping,
 * see handover.ts) is recorded as such; `resume.ts` carries it on in the next serve.
 */
import { randomUUID } from 'node:crypto';
import { type Diagnostic, type Result, fail, ok } from '../diagnostics/diagnostic.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import type { Definitions } from '../definitions/model.js';
import { select } from '../selection/index.js';
import { getHandler, handlerNames, recoverHandlers } from '../handlers/registry.js';
import type { AlertOutcome } from '../notify/index.js';
import { runHooks } from '../notify/hooks.js';
import type { DeliveryOptions } from '../notify/slack.js';
import type { VaultSession } from '../secrets/vault.js';
import type { Store, Trigger } from '../storage/store.js';
import { didYouMean } from '../util/suggest.js';
import type { EventSink } from './events.js';
import { execute, type RunOutcome } from './executor.js';
import type { ResumeState } from './resumed-steps.js';
import { buildPlan, validatePlan, type Plan } from './plan.js';
import { FanOut } from './sinks.js';
import { envPolicy } from './step-env.js';
import { launcherFor } from '../launchers/index.js';
import type { Launcher } from '../launchers/spec.js';

/**
 * What to run: a job, a selection expression, or given asset keys (a retry's steps, with
 * the selection and job recorded for them).
 */
export type RunTarget = { job: string } | { select: string } | { keys: string[]; selection: string; job?: string };

/** A checked plan and what it was made from. */
export interface PlannedRun {
  selection: string;
  job?: string;
  plan: Plan;
}

/**
 * Resolves a job or a selection into a plan and checks it (handlers known, pools defined,
 * each step's config resolvable). `lastStatus` is read only when `status:` is evaluated.
 */
export function planRun(
  defs: Definitions,
  env: ResolvedEnvironment,
  target: RunTarget,
  opts: { lastStatus?: (key: string) => string | undefined; processEnv?: Record<string, string | undefined> } = {},
): Result<PlannedRun> {
  let selection: string;
  let job: string | undefined;
  if ('keys' in target) {
    selection = target.selection;
    job = target.job;
  } else if ('job' in target) {
    const j = defs.jobs.get(target.job);
    if (!j) return fail({ message: `unknown job \`${target.job}\`${didYouMean(target.job, defs.jobs.keys())}; defined: ${[...defs.jobs.keys()].join(', ') || 'none'}` });
    selection = j.select;
    job = j.name;
  } else selection = target.select;
  const keys = 'keys' in target ? ok(target.keys) : select(selection, { graph: defs.graph, assets: defs.assets, jobs: defs.jobs, lastStatus: opts.lastStatus });
  if (!keys.ok) return keys;
  const plan = buildPlan(keys.value, defs.assets, defs.graph);
  const ds: Diagnostic[] = validatePlan(plan, { handler: getHandler, env, processEnv: opts.processEnv ?? process.env, pools: defs.settings.pools });
  if (ds.length > 0) {
    if (ds.some((d) => d.message.includes('unknown handler'))) ds.push({ message: `known handlers: ${handlerNames().join(', ')}` });
    return fail(...ds);
  }
  return ok({ selection, job, plan });
}

export interface LaunchOptions {
  defs: Definitions;
  env: ResolvedEnvironment;
  store: Store;
  planned: PlannedRun;
  trigger: Trigger;
  /** The run's id (default: a new UUID); a schedule claims its tick with the id first. */
  runId?: string;
  /** Further consumers of the run's events (the live view, a daemon's log). */
  sinks?: EventSink[];
  /** Aborted to cancel the run. */
  signal: AbortSignal;
  /** Steps at once (default: the pipelines' `runner.concurrency`). */
  concurrency?: number;
  failFast?: boolean;
  processEnv?: Record<string, string | undefined>;
  /** A long-lived Vault session (serve); default: one for this run. */
  vault?: VaultSession;
  /** Where an alert with no webhook is printed (default stderr). */
  alertOut?: { write(text: string): unknown };
  delivery?: DeliveryOptions;
  /** Called with the run id once the run is recorded, before any step starts. */
  onCreated?: (runId: string) => void;
  /** Where the steps run (default: the environment's launcher, see src/launchers/). */
  launcher?: Launcher;
  /** Carries on the recorded run `runId` (a handed-over one, see resume.ts) instead of recording a new run. */
  resume?: ResumeState;
  /** Called with the run's resolver before the steps start (a resumed run teaches its masker the secrets of its re-attached steps). */
  beforeStart?: (hooks: { resolve(names: string[]): Promise<unknown> }) => Promise<void>;
}

export interface Launched {
  runId: string;
  outcome: RunOutcome;
  /** Whether the failure (or recovery) alert went out; undefined when none was due. */
  alert: AlertOutcome | undefined;
}

/**
 * Records and executes a run; resolves when it ended and its alert was handled. The run
 * is recorded synchronously, before this returns its promise, so a caller can hand out
 * its id at once.
 */
export async function launchRun(o: LaunchOptions): Promise<Launched> {
  const { defs, env, store, planned } = o;
  const runId = o.runId ?? randomUUID();
  recoverHandlers();
  const hooks = runHooks({ defs, env, store, processEnv: o.processEnv, vault: o.vault, out: o.alertOut, delivery: o.delivery });
  // The store outlives the run (serve shares it; materialize reads it afterwards): closing the run's sinks only flushes it.
  const storeSink: EventSink = { emit: (e) => store.emit(e), close: () => store.flush() };
  // The store comes first: a step's end is committed before any view shows it.
  const sink = new FanOut([storeSink, ...(o.sinks ?? []), ...hooks.sinks]);
  if (!o.resume) store.createRun({ id: runId, trigger: o.trigger, env: env.name, selection: planned.selection, job: planned.job, keys: planned.plan.steps.map((s) => s.key), pipelinesDir: defs.dir });
  o.onCreated?.(runId);
  await o.beforeStart?.(hooks.resolver);
  const outcome = await execute({
    runId,
    plan: planned.plan,
    env,
    projectDir: defs.projectDir,
    handler: getHandler,
    sink,
    concurrency: o.concurrency ?? defs.settings.concurrency,
    failFast: o.failFast,
    pools: defs.settings.pools,
    slots: store,
    processes: store,
    signal: o.signal,
    mask: hooks.mask,
    maskPiece: (t) => hooks.masker.splitPiece(t),
    resolveSecrets: hooks.resolveSecrets,
    processEnv: o.processEnv,
    envPolicy: envPolicy(defs),
    launcher: o.launcher ?? launcherFor(env, { processEnv: o.processEnv }),
    ...(o.resume ? { resume: o.resume } : {}),
  });
  await sink.close();
  store.flush();
  // Serve stopped: its Jobs run on, the next serve takes the run up (no alert: it has not ended).
  if (outcome.handedOver) store.handOver(runId, outcome.steps);
  return { runId, outcome, alert: await hooks.alert.outcome };
}
