/**
 * Starting a schedule's run in-process, with the executor `runner materialize` uses: the
 * environment (the schedule's `env`, else serve's), the job's or the schedule's selection,
 * the plan and its checks, then the run recorded with the id the tick was claimed with,
 * secrets resolved on demand and masked everywhere, and the failure / recovery alert sent
 * when it ends. A tick whose run cannot start (bad environment, a selection that no longer
 * selects anything) resolves `not_started` with the reason, which the tick records.
 * {@link createResumer} carries on, the same way, a run the previous serve handed over.
 */
import { formatDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { EventSink, RunEvent } from '../execution/events.js';
import type { Store } from '../storage/store.js';
import type { LaunchResult, Launcher } from '../schedule/scheduler.js';
import type { Logger } from './log.js';
import type { ServeMetrics } from './serve-metrics.js';
import type { DeliveryOptions } from '../notify/index.js';
import type { Definitions } from '../definitions/model.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import type { AttachedAttempt } from '../execution/resumed-steps.js';
import type { RunRecord } from '../storage/types.js';

/** What the launcher needs. */
export interface LauncherOptions {
  store: Store;
  log: Logger;
  metrics?: ServeMetrics;
  /** `runner serve --env` (schedules without `env` use it; else RUNNER_ENV, ...). */
  envFlag?: string;
  processEnv?: Record<string, string | undefined>;
  /** Slack delivery timeouts and retries (tests make them short). */
  delivery?: DeliveryOptions;
}

const describe = (ds: Diagnostic[]): string => ds.map(formatDiagnostic).join('\n');

/** A Launcher that runs schedules' runs in this process, through the shared launch path. */
export function createLauncher(opts: LauncherOptions): Launcher {
  const processEnv = opts.processEnv ?? process.env;
  // Loaded now, not at the first tick: a tick should start its run within milliseconds.
  const modules = Promise.all([import('../definitions/environment.js'), import('../execution/launch.js'), import('../secrets/index.js')]);
  modules.catch(() => undefined);
  return async (req, signal): Promise<LaunchResult> => {
    const { defs, schedule: def, runId } = req;
    const { store } = opts;
    const [{ resolveEnvironment }, { planRun, launchRun }, { vaultSessionFor }] = await modules;

    const envR = resolveEnvironment(defs, def.env ?? opts.envFlag, processEnv);
    if (!envR.ok) return { status: 'not_started', error: describe(envR.diagnostics) };
    const env = envR.value;
    const target = def.job !== undefined ? { job: def.job } : { select: def.select ?? '' };
    let statuses: Map<string, string> | undefined;
    const planned = planRun(defs, env, target, { processEnv, lastStatus: (k) => (statuses ??= store.lastStepStatuses()).get(k) });
    if (!planned.ok) return { status: 'not_started', error: describe(planned.diagnostics) };

    // An alert with nowhere to go is printed: into the daemon's log, as one record.
    const alertOut = { write: (text: string) => opts.log.warn(text.trimEnd(), { schedule: def.name }) };
    const { outcome, alert } = await launchRun({
      defs,
      env,
      store,
      planned: planned.value,
      trigger: { type: 'schedule', schedule: def.name, tick: req.tickTime.toISOString() },
      runId,
      sinks: [logSink(opts.log, def.name)],
      signal,
      processEnv,
      vault: vaultSessionFor(env, processEnv),
      alertOut,
      delivery: opts.delivery,
    });
    if (outcome.handedOver) return { status: 'started', error: 'handed over: its Kubernetes Jobs run on, the next serve carries the run on' };
    const m = opts.metrics;
    if (m) {
      m.runsFinished.inc({ schedule: def.name, status: outcome.status });
      for (const s of outcome.steps) {
        if (s.startedAt !== undefined && s.endedAt !== undefined) m.stepDuration.observe({ asset: s.key, status: s.status }, (s.endedAt - s.startedAt) / 1000);
      }
    }
    if (alert && alert.status !== 'none') {
      m?.alerts.inc({ status: alert.status });
      if (alert.status === 'failed') {
        m?.alertFailures.inc();
        opts.log.error(`alert delivery failed: ${alert.detail ?? ''}`, { schedule: def.name, run_id: runId });
      }
    }
    const failed = outcome.steps.filter((s) => s.status === 'failure').map((s) => s.key);
    return { status: outcome.status, error: failed.length > 0 ? `failed: ${failed.join(', ')}` : undefined };
  };
}

/** Carries on a handed-over run (execution/resume.ts): re-attached Jobs, remaining steps, its real status and alert. */
export type Resumer = (run: RunRecord, env: ResolvedEnvironment, attached: ReadonlyMap<string, AttachedAttempt>, signal: AbortSignal) => Promise<void>;

/** The {@link Resumer} of serve: the shared launch path with serve's Vault session, log and alert output. */
export function createResumer(opts: LauncherOptions & { defs: () => Definitions }): Resumer {
  const processEnv = opts.processEnv ?? process.env;
  return async (run, env, attached, signal) => {
    const [{ resumeRun }, { vaultSessionFor }] = await Promise.all([import('../execution/resume.js'), import('../secrets/index.js')]);
    const schedule = run.trigger.type === 'schedule' ? run.trigger.schedule : undefined;
    const fields = { run_id: run.id, ...(schedule ? { schedule } : {}) };
    const alertOut = { write: (text: string) => opts.log.warn(text.trimEnd(), fields) };
    const r = await resumeRun({ defs: opts.defs(), env, store: opts.store, run, attached, sinks: [logSink(opts.log, schedule ?? '')], signal, processEnv, vault: vaultSessionFor(env, processEnv), alertOut, delivery: opts.delivery });
    if (!r.ok) {
      const why = `cannot carry the run on after the restart: ${describe(r.diagnostics)}`;
      opts.log.error(why, fields);
      failRun(opts.store, run, why);
      return;
    }
    const { outcome, alert } = r.value;
    if (outcome.handedOver) opts.log.info('run handed over again', fields);
    else (outcome.status === 'success' ? opts.log.info : opts.log.warn)(`resumed run ended ${outcome.status}`, fields);
    if (alert?.status === 'failed') opts.log.error(`alert delivery failed: ${alert.detail ?? ''}`, fields);
  };
}

/** Ends a run that cannot go on: its unfinished steps and the run fail (canceled if they never started). */
function failRun(store: Store, run: RunRecord, why: string): void {
  const ts = new Date().toISOString();
  for (const s of run.steps) {
    if (s.status === 'running') store.emit({ ts, type: 'step_failed', run_id: run.id, key: s.key, status: 'failure', message: why });
    else if (s.status === 'pending') store.emit({ ts, type: 'step_canceled', run_id: run.id, key: s.key, status: 'canceled', message: why });
  }
  store.emit({ ts, type: 'run_finished', run_id: run.id, status: 'failure', message: why });
}

/** Logs step failures and the run's start and end in the daemon's log. */
function logSink(log: Logger, schedule: string): EventSink {
  return {
    emit(e: RunEvent) {
      if (e.type === 'run_started') log.info('run started', { schedule, run_id: e.run_id });
      else if (e.type === 'step_failed') log.warn(`step failed: ${e.message ?? ''}`, { schedule, run_id: e.run_id, key: e.key, attempt: e.attempt });
      else if (e.type === 'retry_scheduled') log.info(`step retry scheduled: ${e.message ?? ''}`, { schedule, run_id: e.run_id, key: e.key });
    },
  };
}
