/**
 * `runner serve`: the long-running process. Loads the definitions, opens the store,
 * ticks schedules (scheduler.ts) and starts their runs in-process (launcher.ts), serves
 * `/healthz`, `/readyz` and `/metrics` on one HTTP port (loopback by default), reloads the
 * pipelines directory when it changes, applies retention once a day, and on SIGTERM or
 * SIGINT stops ticking, lets running runs finish within the grace period, then ends the
 * rest with a `ServeHandover` (their Kubernetes Jobs run on and the next serve takes the
 * runs up; local steps are canceled) and exits 0.
 */
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { InputError, formatDiagnostic } from '../diagnostics/diagnostic.js';
import type { Definitions } from '../definitions/model.js';
import { Store } from '../storage/store.js';
import { tuneForDaemon } from './tuning.js';
import { Scheduler } from '../schedule/scheduler.js';
import { effectiveStatus, readScheduleStates } from '../schedule/state.js';
import { scheduleCron, formatInZone } from '../schedule/cron.js';
import { createLogger, levelFromEnv, type LogFormat, type Logger } from './log.js';
import { Router, json, listen, text, type RunningServer } from './http.js';
import { installLastResort } from './last-resort.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.js';
import { ServeMetrics } from './serve-metrics.js';
import { healthReport, readyReport } from './health.js';
import { watchDefinitions, type DefinitionsWatcher } from './reload.js';
import { createLauncher, createResumer } from './launcher.js';
import { collectGarbage, formatGcResult, formatRetention } from './retention.js';
import { forgetStaleServes, heartbeat, unregisterServe, type ServeIdentity } from './presence.js';
import { formatDuration } from '../util/duration.js';
import { ServeHandover } from '../execution/handover.js';
import { setLongTimeout, type LongTimer } from '../util/timers.js';
import type { Launcher } from '../schedule/scheduler.js';

/** Options of `runner serve`. */
export interface ServeOptions {
  pipelines: string;
  env?: string;
  host: string;
  port: number;
  logFormat: LogFormat;
  /** How long running runs may take to finish after SIGTERM/SIGINT before they are canceled. */
  graceMs: number;
  /** RUNNER_HOME override (default: runnerHome of the definitions). */
  home?: string;
  /** Extra routes on the same port (the web UI mounts itself here). */
  mounts?: RouteMount[];
  /** Whether a mount serves the web UI at `/`: the start-up line then names its address. */
  ui?: boolean;
  /** Replaces the in-process launcher (tests). */
  launcher?: Launcher;
}

/** What a route mount can use. */
export interface ServeContext {
  router: Router;
  store: Store;
  scheduler: Scheduler;
  metrics: ServeMetrics;
  log: Logger;
  /** The definitions in force. */
  defs(): Definitions;
  /**
   * Work for shutdown, run alongside the scheduler's drain before the HTTP server closes
   * (end event streams, let runs the mount started finish); it gets the grace period.
   */
  onShutdown(hook: (graceMs: number) => Promise<void>): void;
  /**
   * Cancels a run this serve runs for a schedule or carries on after a restart (the web
   * UI's own runs it cancels itself); false when this process does not run it.
   */
  cancelRun(runId: string, reason: Error): boolean;
}

/** Adds routes to serve's router (e.g. the web UI's pages and API). */
export type RouteMount = (ctx: ServeContext) => void | Promise<void>;

const HEARTBEAT_MS = 15_000;
const REAP_MS = 60_000;
const DAY_MS = 86_400_000;
/** After the grace period and a cancel, how long runs may take to end before their processes are killed. */
const HARD_STOP_MS = 30_000;

/** Runs the daemon until SIGTERM/SIGINT; resolves to the exit code. Bad input throws InputError (exit 2). */
export async function serve(opts: ServeOptions): Promise<number> {
  const log = createLogger({ format: opts.logFormat, level: levelFromEnv(process.env.RUNNER_LOG_LEVEL) });
  const dir = path.resolve(opts.pipelines);
  const { loadDefinitions } = await import('../definitions/load.js');
  const first = await loadDefinitions(dir);
  if (!first.ok) throw new InputError(first.diagnostics);
  let defs = first.value;
  // The serve-wide environment must exist now: a typo should not wait for the first tick.
  const { resolveEnvironment } = await import('../definitions/environment.js');
  const env = resolveEnvironment(defs, opts.env);
  if (!env.ok) throw new InputError(env.diagnostics);

  const { runnerHome } = await import('../cli/options.js');
  const home = opts.home ?? runnerHome(defs);
  const store = Store.open(home);
  tuneForDaemon(store);
  if (store.reaped.length > 0) log.warn(`marked ${store.reaped.length} run(s) of a runner that exited as failed`, { run_ids: store.reaped });

  let shuttingDown = false;
  let storeClosed = false;
  let reloadError: string | undefined;
  const me: ServeIdentity = { id: randomUUID(), address: null, startedAt: new Date() };
  let scheduler!: Scheduler;
  const metrics = new ServeMetrics({
    db: () => store.db,
    defs: () => defs,
    statuses: () => scheduler.scheduleStatuses(),
    lastWake: () => scheduler.lastWakeAt,
    activeRuns: () => scheduler.activeRuns().length,
  });
  metrics.loadedAt = new Date();
  const launch = opts.launcher ?? createLauncher({ store, log, metrics, envFlag: opts.env });
  scheduler = new Scheduler({
    db: store.db,
    launch,
    log,
    observer: {
      tick: (schedule, outcome) => metrics.ticks.inc({ schedule, outcome }),
      missed: (schedule, n) => metrics.missedTicks.inc({ schedule }, n),
    },
  });
  scheduler.setDefinitions(defs);

  const router = new Router();
  router.get('/healthz', () => {
    const r = healthReport({ now: new Date(), lastWakeAt: scheduler.lastWakeAt, ticking: scheduler.isTicking, db: () => store.db, me });
    return json(r.status === 'ok' ? 200 : 503, r);
  });
  router.get('/readyz', () => {
    const r = readyReport({ definitionsLoaded: true, schedules: defs.schedules.size, storeOpen: !storeClosed, shuttingDown, reloadError });
    return json(r.status === 'ok' ? 200 : 503, r);
  });
  router.get('/metrics', () => text(200, metrics.render(), PROMETHEUS_CONTENT_TYPE));
  const shutdownHooks: Array<(graceMs: number) => Promise<void>> = [];
  // Re-attachments to Kubernetes Jobs, one per environment: the runs they carry on can be canceled.
  const reattachments: Array<{ cancel(runId: string, reason: Error): boolean }> = [];
  const cancelRun = (runId: string, reason: Error): boolean => {
    const scheduled = scheduler.activeRuns().find((r) => r.runId === runId);
    if (scheduled) {
      scheduled.controller.abort(reason);
      return true;
    }
    return reattachments.some((r) => r.cancel(runId, reason));
  };
  const ctx: ServeContext = { router, store, scheduler, metrics, log, defs: () => defs, onShutdown: (hook) => void shutdownHooks.push(hook), cancelRun };
  for (const mount of opts.mounts ?? []) await mount(ctx);

  const uninstallGuard = installLastResort(log, (where) => metrics.uncaughtErrors.inc({ where }));
  let server: RunningServer;
  try {
    server = await listen(router, opts.host, opts.port);
  } catch (err) {
    uninstallGuard();
    store.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new InputError(`cannot listen on ${opts.host}:${opts.port}: the port is in use (pass --port)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new InputError(`cannot listen on ${opts.host}:${opts.port}: no such address (pass --host)`);
    throw err;
  }
  const url = `http://${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`;
  me.address = url;
  heartbeat(store.db, me, new Date());

  // Housekeeping: heartbeat (also proves the store writable), reaping runs of dead runners, retention.
  let lastReap = Date.now();
  const housekeeping = setInterval(() => {
    try {
      heartbeat(store.db, me, new Date());
      if (Date.now() - lastReap >= REAP_MS) {
        lastReap = Date.now();
        forgetStaleServes(store.db, new Date());
        const reaped = store.reapOrphans();
        if (reaped.length > 0) log.warn(`marked ${reaped.length} run(s) of a runner that exited as failed`, { run_ids: reaped });
      }
    } catch (err) {
      log.error('housekeeping failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }, HEARTBEAT_MS);
  const retention = (): void => {
    try {
      const r = collectGarbage({ db: store.db, home: store.home, retentionMs: defs.settings.retention.runsMs });
      metrics.retentionDeleted.inc({}, r.runIds.length);
      if (r.runIds.length > 0 || r.logDirs > 0 || r.ticks > 0) log.info(formatGcResult(r, formatRetention(defs.settings.retention.runsMs)).trimEnd());
    } catch (err) {
      log.error('retention failed', { error: err instanceof Error ? err.message : String(err) });
    }
  };
  const retentionFirst = setTimeout(retention, 1000);
  const retentionDaily = setInterval(retention, DAY_MS);

  const watcher: DefinitionsWatcher = watchDefinitions({
    dir,
    load: (d) => loadDefinitions(d),
    onLoaded: (next) => {
      const changes = describeChanges(defs, next);
      defs = next;
      reloadError = undefined;
      metrics.loadedAt = new Date();
      metrics.reloads.inc({ result: 'ok' });
      scheduler.setDefinitions(next);
      log.info(`definitions reloaded${changes ? ': ' + changes : ''}`, { assets: next.assets.size, schedules: next.schedules.size });
    },
    onInvalid: (ds) => {
      reloadError = ds.map(formatDiagnostic).join('\n');
      metrics.reloads.inc({ result: 'error' });
      metrics.reloadErrors.inc();
      log.error(`definitions not reloaded: the changed files are invalid, the previous definitions stay in force\n${reloadError}`, { errors: ds.length });
    },
    onWatchError: (err) => log.warn(`watching ${dir} failed, retrying: ${err.message}`),
  });

  scheduler.start();
  (await import('../watch/service.js')).startWatchers(ctx, { env: opts.env });
  // Steps run as Kubernetes Jobs: take up the runs the previous serve handed over, follow the Jobs of runs it left running when it died, reap the rest.
  const reaped = new Set(store.reaped);
  const resume = createResumer({ store, log, envFlag: opts.env, defs: () => defs });
  for (const name of new Set([env.value.name, ...store.handedOverRuns().map((r) => r.env)])) {
    const e = name === env.value.name ? env : resolveEnvironment(defs, name);
    if (!e.ok || !e.value.kubernetes) {
      if (name !== env.value.name) log.warn(`runs handed over in environment ${name} wait for a serve that can run it: ${e.ok ? 'it has no kubernetes settings now' : 'the pipeline files do not define it (or it does not resolve)'}`, { env: name });
      continue;
    }
    const kenv = e.value as typeof e.value & { kubernetes: NonNullable<typeof e.value.kubernetes> };
    void import('../launchers/kubernetes/reattach.js')
      .then(async (m) => {
        const r = await m.reattach({ store, defs, env: kenv, reaped, log, resume: (run, attached, signal) => resume(run, kenv, attached, signal) });
        reattachments.push(r);
        // Serve stopping lets go of the Jobs again (and hands the resumed runs over): the next serve takes them up.
        ctx.onShutdown(async () => {
          r.detach();
          await r.done;
        });
        await r.done;
      })
      .catch((err: unknown) => log.warn(`re-attaching to Kubernetes Jobs failed: ${err instanceof Error ? err.message : String(err)}`, { env: name }));
  }
  // On a wildcard bind the listening address is not one a browser can open: name the host.
  const wildcard = server.host === '0.0.0.0' || server.host === '::';
  const uiUrl = `${wildcard ? `http://${os.hostname()}:${server.port}` : url}/`;
  log.info(`serving on ${url} (${opts.ui ? `web UI: ${uiUrl}; ` : ''}/healthz, /readyz, /metrics)`, { pid: process.pid, pipelines: dir, home: store.home, env: env.value.name });
  const stored = readScheduleStates(store.db);
  for (const s of defs.schedules.values()) {
    const status = effectiveStatus(s, stored.get(s.name));
    const next = status === 'running' ? scheduleCron(s).next(new Date()) : null;
    log.info('schedule', { schedule: s.name, status, cron: s.cron, timezone: s.timezone, next: next ? formatInZone(next, s.timezone) : undefined });
  }

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        // Asked again: do not wait out the grace period.
        log.warn(`${sig} again: ending running runs now (Kubernetes Jobs are handed over, local steps canceled)`);
        for (const r of scheduler.activeRuns()) r.controller.abort(new ServeHandover(`runner serve received ${sig} again`));
        return;
      }
      shuttingDown = true;
      log.info(`${sig}: stopping; running runs get ${formatDuration(opts.graceMs)} to finish`, { runs: scheduler.activeRuns().length });
      void shutdown().then(resolve);
    };
    const shutdown = async (): Promise<number> => {
      watcher.close();
      clearInterval(housekeeping);
      clearTimeout(retentionFirst);
      clearInterval(retentionDaily);
      // Canceled runs end once their children are terminated; should one hang, kill every child group.
      let hard: LongTimer | undefined;
      const drained = await Promise.race([
        Promise.all([scheduler.drain(opts.graceMs), ...shutdownHooks.map((h) => h(opts.graceMs).catch(() => undefined))]).then(([d]) => d),
        new Promise<undefined>((r) => (hard = setLongTimeout(() => r(undefined), opts.graceMs + HARD_STOP_MS))),
      ]);
      hard?.clear();
      if (!drained) {
        log.error('runs did not end after being canceled: killing their processes');
        const { killAllNow } = await import('../execution/process-tree.js');
        killAllNow();
      } else if (drained.finished + drained.canceled > 0) log.info(`runs at shutdown: ${drained.finished} finished, ${drained.canceled} canceled`);
      await server.close();
      try {
        unregisterServe(store.db, me.id);
      } catch {
        // the store is gone or locked: its row goes stale on its own
      }
      storeClosed = true;
      store.close();
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      uninstallGuard();
      log.info('stopped');
      return 0;
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** `added a, b; removed c; changed d` between two definitions' schedules, or ''. */
export function describeChanges(before: Definitions, after: Definitions): string {
  const added = [...after.schedules.keys()].filter((n) => !before.schedules.has(n));
  const removed = [...before.schedules.keys()].filter((n) => !after.schedules.has(n));
  const changed = [...after.schedules.values()]
    .filter((s) => {
      const b = before.schedules.get(s.name);
      return b && (b.cron !== s.cron || b.timezone !== s.timezone || b.job !== s.job || b.select !== s.select || b.overlap !== s.overlap || b.env !== s.env);
    })
    .map((s) => s.name);
  const parts: string[] = [];
  if (added.length) parts.push(`schedules added: ${added.join(', ')}`);
  if (removed.length) parts.push(`schedules removed: ${removed.join(', ')}`);
  if (changed.length) parts.push(`schedules changed: ${changed.join(', ')}`);
  return parts.join('; ');
}
