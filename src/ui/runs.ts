/**
 * Runs started from the web UI (Launch): the plan of a selection or a job, checked as
 * `runner materialize` checks it, then run in serve's process with the same executor,
 * store, secrets and alerts as `materialize` (trigger `manual`), and retries of finished
 * runs ("Re-run failed": trigger `retry of RUN_ID`). The run is recorded before
 * the request is answered, so its page opens at once; it runs on in the background.
 * On shutdown, running runs get serve's grace period, then are canceled.
 */
import { randomUUID } from 'node:crypto';
import { fail, ok, type Result } from '../diagnostics/diagnostic.js';
import type { Definitions } from '../definitions/model.js';
import { resolveEnvironment, type ResolvedEnvironment } from '../definitions/environment.js';
import type { Plan } from '../execution/plan.js';
import { launchRun, planRun } from '../execution/launch.js';
import { vaultSessionFor } from '../secrets/index.js';
import type { Store } from '../storage/store.js';
import type { RunRecord, Trigger } from '../storage/types.js';
import { planRetry, type RetryRefusal } from '../execution/rerun.js';
import type { Logger } from '../serve/log.js';
import { setLongTimeout, type LongTimer } from '../util/timers.js';
import { ServeHandover } from '../execution/handover.js';

/** What to run: a selection expression or a job's name. */
export interface LaunchRequest {
  select?: string;
  job?: string;
}

/** A checked plan, ready to run. */
export interface PreparedLaunch {
  selection: string;
  job?: string;
  env: ResolvedEnvironment;
  plan: Plan;
}

/** The launch preview: what would run, in dependency order (the JSON of `GET /api/plan`). */
export interface PlanDocument {
  selection: string;
  job: string | null;
  env: string;
  steps: Array<{ key: string; group: string; handler: string; upstream: string[] }>;
}

interface Active {
  controller: AbortController;
  done: Promise<void>;
}

/** Options of {@link ManualRuns}. */
export interface ManualRunsOptions {
  store: Store;
  log: Logger;
  /** `runner serve --env`. */
  envFlag?: string;
  processEnv?: Record<string, string | undefined>;
}

/** The manual runs of one serve process. */
export class ManualRuns {
  private readonly active = new Map<string, Active>();
  private closing = false;
  private readonly processEnv: Record<string, string | undefined>;

  constructor(private readonly opts: ManualRunsOptions) {
    this.processEnv = opts.processEnv ?? process.env;
  }

  /** Resolves the environment, the selection (or job) and the plan, with every check `materialize` makes. */
  prepare(defs: Definitions, req: LaunchRequest): Result<PreparedLaunch> {
    const hasSelect = typeof req.select === 'string' && req.select.trim() !== '';
    const hasJob = typeof req.job === 'string' && req.job !== '';
    if (hasSelect === hasJob) return fail({ message: hasSelect ? 'give either a selection or a job, not both' : 'say what to run: a selection or a job' });
    const envR = resolveEnvironment(defs, this.opts.envFlag, this.processEnv);
    if (!envR.ok) return envR;
    let statuses: Map<string, string> | undefined;
    const planned = planRun(defs, envR.value, hasJob ? { job: req.job! } : { select: req.select! }, {
      processEnv: this.processEnv,
      lastStatus: (k) => (statuses ??= this.opts.store.lastStepStatuses()).get(k),
    });
    if (!planned.ok) return planned;
    return ok({ ...planned.value, env: envR.value });
  }

  /** The preview document of a prepared launch. */
  static document(p: PreparedLaunch): PlanDocument {
    return {
      selection: p.selection,
      job: p.job ?? null,
      env: p.env.name,
      steps: p.plan.steps.map((s) => ({ key: s.key, group: s.asset.group, handler: s.asset.handler, upstream: s.upstream })),
    };
  }

  /** Records the run and starts it in the background; its id. */
  start(defs: Definitions, req: LaunchRequest): Result<{ runId: string }> {
    if (this.closing) return fail({ message: 'runner serve is shutting down: no new runs' });
    const prepared = this.prepare(defs, req);
    if (!prepared.ok) return prepared;
    return ok(this.launch(defs, prepared.value, { type: 'manual' }));
  }

  /**
   * Starts the retry of `run` (its steps that did not succeed, in its environment; see
   * execution/rerun.ts) in the background. A refusal says whether the run's state
   * (`conflict`: unfinished, nothing to retry) or the pipeline files are in the way.
   */
  retry(defs: Definitions, run: RunRecord): { ok: true; runId: string } | { ok: false; refusal: RetryRefusal } {
    if (this.closing) return { ok: false, refusal: { kind: 'conflict', diagnostics: [{ message: 'runner serve is shutting down: no new runs' }] } };
    const r = planRetry(defs, run, { processEnv: this.processEnv });
    if (!r.ok) return r;
    const running = this.opts.store.unfinishedRetryOf(run.id);
    if (running !== undefined) return { ok: false, refusal: { kind: 'conflict', diagnostics: [{ message: `run ${run.id} is already being retried by run ${running}, which has not finished` }] } };
    return { ok: true, ...this.launch(defs, r.value, r.value.trigger) };
  }

  private launch(defs: Definitions, prepared: PreparedLaunch, trigger: Trigger): { runId: string } {
    const { selection, job } = prepared;
    const { store, log } = this.opts;
    const runId = randomUUID();
    const controller = new AbortController();
    // A printed alert (no webhook) goes to serve's log as one record.
    const alertOut = { write: (text: string) => log.warn(text.trimEnd(), { run_id: runId }) };
    // launchRun records the run before it returns its promise, so the run page opens at once.
    const done = launchRun({
      defs,
      env: prepared.env,
      store,
      planned: prepared,
      trigger,
      runId,
      signal: controller.signal,
      processEnv: this.processEnv,
      vault: vaultSessionFor(prepared.env, this.processEnv),
      alertOut,
    })
      .then(({ outcome }) => (outcome.status === 'success' ? log.info : log.warn)(`run from the web UI ended ${outcome.status}`, { run_id: runId }))
      .catch((err: unknown) => log.error('a run started from the web UI failed to run', { run_id: runId, error: err instanceof Error ? err.message : String(err) }))
      .finally(() => this.active.delete(runId));
    this.active.set(runId, { controller, done });
    log.info('run started from the web UI', { run_id: runId, selection, ...(job ? { job } : {}), ...(trigger.type === 'retry' ? { retry_of: trigger.retry_of } : {}) });
    return { runId };
  }

  /** Cancels a run this process started; false when it is not one (or has ended). */
  cancel(runId: string): boolean {
    const a = this.active.get(runId);
    if (!a) return false;
    a.controller.abort(new Error('canceled from the web UI'));
    return true;
  }

  /** Whether this process is running the run. */
  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  /** Ids of the runs this process is running. */
  activeIds(): string[] {
    return [...this.active.keys()];
  }

  /** Stops taking runs; lets running ones finish for `graceMs`, then cancels the rest and waits for them. */
  async drain(graceMs: number): Promise<void> {
    this.closing = true;
    const runs = [...this.active.values()];
    if (runs.length === 0) return;
    let timer: LongTimer | undefined;
    const over = new Promise<void>((resolve) => (timer = setLongTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(runs.map((r) => r.done)), over]);
    timer?.clear();
    const left = [...this.active.values()];
    // Not a cancel: steps that can outlive serve (Kubernetes Jobs) are handed over to the next one.
    for (const r of left) r.controller.abort(new ServeHandover('runner serve is shutting down'));
    await Promise.all(left.map((r) => r.done));
  }
}
