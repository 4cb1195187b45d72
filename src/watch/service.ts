/**
 * The watchers of `runner serve`: one loop that wakes every second, reads the watchers'
 * stored statuses (one query: `runner watcher start|stop` from another process is seen
 * within a couple of seconds), and polls each running watcher when it is due, one poll
 * at a time per watcher. A poll that fails (Dagster unreachable or erroring, a secret that
 * does not resolve) is recorded (history, metrics, log) and retried with exponential
 * backoff up to `maxBackoffMs`; the first poll that succeeds again catches the backlog up.
 */
import type { Database } from 'better-sqlite3';
import type { Definitions, ScheduleStatus, WatcherDef } from '../definitions/model.js';
import type { DeliveryOptions } from '../notify/slack.js';
import type { Logger } from '../serve/log.js';
import type { Counter, Gauge, Registry } from '../serve/metrics.js';
import { formatDuration } from '../util/duration.js';
import { formatInterval } from './commands.js';
import { DagsterError } from './dagster-client.js';
import { type PollHooks, type PollOutcome, type PollTuning, WatchConfigError, pollOnce } from './poller.js';
import { type Owner, alertCounts, effectiveWatcherStatus, newOwner, parseCursor, pruneWatcher, readWatcherStates, recordPollFailure, recordPollSuccess } from './state.js';

/** Options of the watch service. */
export interface WatchServiceOptions {
  /** The store's connection (reopened by the store when needed). */
  db: () => Database;
  /** The definitions in force (serve reloads them). */
  defs: () => Definitions;
  /** `runner serve --env` (else RUNNER_ENV, DAGSTER_ENV, the default). */
  envFlag?: string;
  processEnv?: Record<string, string | undefined>;
  log: Logger;
  /** Serve's metrics registry: the watcher metrics are added to it. */
  registry?: Registry;
  out?: { write(text: string): unknown };
  delivery?: DeliveryOptions;
  tuning?: Partial<PollTuning>;
  hooks?: PollHooks;
  /** How often statuses are read (default 1s). */
  tickMs?: number;
  /** The longest wait between polls of a failing Dagster (default 5 min). */
  maxBackoffMs?: number;
  now?: () => Date;
  /** The claim owner (tests pass one to play two processes). */
  owner?: Owner;
}

const HOUR_MS = 3_600_000;

/** Metrics of the watchers, on serve's `/metrics`. */
class WatchMetrics {
  readonly polls: Counter;
  readonly errors: Counter;
  readonly alerts: Counter;
  private readonly running: Gauge;
  private readonly failures: Gauge;
  private readonly lastSuccess: Gauge;
  private readonly pending: Gauge;
  private readonly retryPending: Gauge;

  constructor(registry: Registry, db: () => Database, defs: () => Definitions) {
    this.polls = registry.counter('runner_watcher_polls_total', 'Polls of Dagster by watcher and result (ok, error).');
    this.errors = registry.counter('runner_watcher_dagster_errors_total', 'Polls that failed, by watcher and kind (unreachable, timeout, http, graphql, dagster, invalid, config).');
    this.alerts = registry.counter('runner_watcher_alerts_total', 'Failed Dagster runs handled by this process, by watcher and outcome (sent, printed, failed, given_up, retry_pending, skipped, uncertain).');
    this.running = registry.gauge('runner_watcher_running', 'Whether a watcher is running (1) or stopped (0).');
    this.failures = registry.gauge('runner_watcher_consecutive_failures', 'Polls of Dagster that failed in a row (0 when the last one succeeded).');
    this.lastSuccess = registry.gauge('runner_watcher_last_success_timestamp_seconds', 'When a watcher last reached Dagster (Unix time).');
    this.pending = registry.gauge('runner_watcher_pending_alerts', 'Alerts claimed but not yet delivered (claimed, sending, or failed and waiting for a retry).');
    this.retryPending = registry.gauge('runner_watcher_retry_pending_runs', 'Failed Dagster runs held back because Dagster said it will retry them, until the retry starts (no alert) or not (alert).');
    registry.collect(() => {
      const states = readWatcherStates(db());
      const counts = alertCounts(db());
      for (const g of [this.running, this.failures, this.lastSuccess, this.pending, this.retryPending]) g.reset();
      for (const def of defs().watchers.values()) {
        const row = states.get(def.name);
        const labels = { watcher: def.name };
        this.running.set(labels, effectiveWatcherStatus(def, row) === 'running' ? 1 : 0);
        this.failures.set(labels, row?.failures ?? 0);
        if (row?.last_success_at) this.lastSuccess.set(labels, Date.parse(row.last_success_at) / 1000);
        const c = counts.get(def.name) ?? {};
        this.pending.set(labels, (c.claimed ?? 0) + (c.sending ?? 0) + (c.failed ?? 0));
        this.retryPending.set(labels, c.retry_pending ?? 0);
      }
    });
  }

  /** Zeroes for a watcher's counters, so they exist before the first event. */
  touch(name: string): void {
    this.polls.inc({ watcher: name, result: 'error' }, 0);
    this.polls.inc({ watcher: name, result: 'ok' }, 0);
    this.alerts.inc({ watcher: name, status: 'sent' }, 0);
    this.alerts.inc({ watcher: name, status: 'failed' }, 0);
  }
}

/** The watchers of one serve process. */
export class WatchService {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly nextAt = new Map<string, number>();
  private readonly statuses = new Map<string, ScheduleStatus>();
  private readonly lastPrune = new Map<string, number>();
  private readonly metrics: WatchMetrics | undefined;
  private readonly now: () => Date;
  private readonly tickMs: number;
  /** Who this process's claims belong to. */
  readonly owner: Owner;

  constructor(private readonly opts: WatchServiceOptions) {
    this.now = opts.now ?? (() => new Date());
    this.tickMs = opts.tickMs ?? 1000;
    this.owner = opts.owner ?? newOwner();
    this.metrics = opts.registry ? new WatchMetrics(opts.registry, opts.db, opts.defs) : undefined;
  }

  /** Begins the loop (a first pass right away). */
  start(): void {
    if (this.stopped || this.timer) return;
    const loop = (): void => {
      this.wake();
      if (!this.stopped) {
        this.timer = setTimeout(loop, this.tickMs);
        this.timer.unref();
      }
    };
    loop();
  }

  /** The effective status of each watcher at the last pass. */
  watcherStatuses(): ReadonlyMap<string, ScheduleStatus> {
    return this.statuses;
  }

  /** One pass: notes status changes and starts the polls that are due. */
  wake(): void {
    if (this.stopped) return;
    let defs: Definitions;
    let states: ReturnType<typeof readWatcherStates>;
    try {
      defs = this.opts.defs();
      if (defs.watchers.size === 0 && this.statuses.size === 0) return; // nothing to watch: no query either
      states = readWatcherStates(this.opts.db());
    } catch (err) {
      this.opts.log.error('watchers: cannot read their state', { error: err instanceof Error ? err.message : String(err) });
      return;
    }
    for (const name of [...this.statuses.keys()]) {
      if (!defs.watchers.has(name)) {
        this.statuses.delete(name);
        this.nextAt.delete(name);
        this.opts.log.info('watcher removed from the definitions: it stops polling', { watcher: name });
      }
    }
    const now = this.now().getTime();
    for (const def of defs.watchers.values()) {
      const status = effectiveWatcherStatus(def, states.get(def.name));
      const before = this.statuses.get(def.name);
      this.statuses.set(def.name, status);
      if (before === undefined) this.metrics?.touch(def.name);
      if (status !== before && (before !== undefined || status === 'running')) {
        this.opts.log.info(status === 'running' ? `watcher running: polls ${def.dagster.url} every ${formatInterval(def.intervalMs)}` : 'watcher stopped: no more polls', { watcher: def.name });
        if (status === 'running') this.nextAt.set(def.name, now);
      }
      if (status !== 'running' || this.inFlight.has(def.name)) continue;
      if (now < (this.nextAt.get(def.name) ?? now)) continue;
      const p = this.poll(def).finally(() => this.inFlight.delete(def.name));
      this.inFlight.set(def.name, p);
    }
  }

  /** Polls one watcher now (the loop's unit; tests call it) and records the outcome. */
  async poll(def: WatcherDef): Promise<void> {
    const db = this.opts.db();
    const started = this.now();
    const labels = { watcher: def.name };
    try {
      const { resolveEnvironment } = await import('../definitions/environment.js');
      const defs = this.opts.defs();
      const env = resolveEnvironment(defs, this.opts.envFlag, this.opts.processEnv ?? process.env);
      if (!env.ok) throw new WatchConfigError(`watcher ${def.name}: ${env.diagnostics.map((d) => d.message).join('; ')}`);
      const { vaultSessionFor } = await import('../secrets/index.js');
      const out = await pollOnce({
        db,
        def,
        defs,
        env: env.value,
        owner: this.owner,
        processEnv: this.opts.processEnv,
        vault: vaultSessionFor(env.value, this.opts.processEnv),
        out: this.opts.out,
        delivery: this.opts.delivery,
        log: this.opts.log,
        now: this.now,
        signal: this.abort.signal,
        tuning: this.opts.tuning,
        hooks: this.opts.hooks,
      });
      const failedBefore = recordPollSuccess(db, def, this.now());
      this.metrics?.polls.inc({ ...labels, result: 'ok' });
      this.count(def.name, out);
      if (failedBefore > 0) this.opts.log.info(`Dagster answers again after ${failedBefore} failed poll${failedBefore === 1 ? '' : 's'}: catching up`, { watcher: def.name, url: out.url });
      this.nextAt.set(def.name, started.getTime() + def.intervalMs);
      this.prune(def, db);
    } catch (err) {
      if (this.stopped && this.abort.signal.aborted) return;
      const message = err instanceof Error ? err.message : String(err);
      const kind = err instanceof DagsterError ? err.kind : err instanceof WatchConfigError ? 'config' : 'internal';
      let failures = 1;
      try {
        failures = recordPollFailure(db, def, message, this.now());
      } catch (e) {
        this.opts.log.error('watcher: cannot record a failed poll', { watcher: def.name, error: e instanceof Error ? e.message : String(e) });
      }
      this.metrics?.polls.inc({ ...labels, result: 'error' });
      this.metrics?.errors.inc({ ...labels, kind });
      const wait = Math.min(this.opts.maxBackoffMs ?? 5 * 60_000, def.intervalMs * 2 ** Math.min(20, failures - 1));
      this.nextAt.set(def.name, this.now().getTime() + wait);
      this.opts.log.warn(`poll of Dagster failed (${failures} in a row), retrying in ${formatDuration(wait)}: ${message}`, { watcher: def.name, kind });
    }
  }

  private count(watcher: string, out: PollOutcome): void {
    if (!this.metrics) return;
    for (const d of out.delivered) this.metrics.alerts.inc({ watcher, status: d.status });
    if (out.skipped.length) this.metrics.alerts.inc({ watcher, status: 'skipped' }, out.skipped.length);
    if (out.pending.length) this.metrics.alerts.inc({ watcher, status: 'retry_pending' }, out.pending.length);
    if (out.uncertain.length) this.metrics.alerts.inc({ watcher, status: 'uncertain' }, out.uncertain.length);
  }

  /** At most hourly: deletes claims and events older than the runs' retention. */
  private prune(def: WatcherDef, db: Database): void {
    const now = this.now().getTime();
    if (now - (this.lastPrune.get(def.name) ?? 0) < HOUR_MS) return;
    this.lastPrune.set(def.name, now);
    try {
      const cursor = parseCursor(readWatcherStates(db).get(def.name)?.cursor);
      if (!cursor) return;
      const retention = this.opts.defs().settings.retention.runsMs;
      pruneWatcher(db, def.name, new Date(now - retention), cursor.updated_after - 3600);
    } catch (err) {
      this.opts.log.warn('watcher: retention of old alerts failed', { watcher: def.name, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Stops polling; a poll in progress is canceled (its claims stay for the next serve) and awaited. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort(new Error('runner serve is stopping'));
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Resolves when no poll is in progress (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }
}

/** What serve hands the watchers (a subset of its ServeContext). */
export interface WatchContext {
  store: { readonly db: Database };
  log: Logger;
  metrics?: { registry: Registry };
  defs(): Definitions;
  /** Serve's shutdown hooks: the watchers stop there. */
  onShutdown?(hook: (graceMs: number) => Promise<void>): void;
}

/** Starts the watchers of a serve process; they stop with serve's shutdown hooks (or call `stop()`). */
export function startWatchers(ctx: WatchContext, opts: { env?: string } = {}): WatchService {
  const service = new WatchService({ db: () => ctx.store.db, defs: () => ctx.defs(), envFlag: opts.env, log: ctx.log, registry: ctx.metrics?.registry });
  service.start();
  ctx.onShutdown?.(() => service.stop());
  return service;
}
