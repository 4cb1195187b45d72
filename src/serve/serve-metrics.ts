/**
 * The metrics `runner serve` exposes on `/metrics`. Counters and histograms count what
 * this process did (ticks, runs it started, step durations, alert deliveries, reloads);
 * gauges about history (runs by status, time since each asset's last success) are read
 * from the store at scrape time, so they hold for every process sharing the store.
 */
import type { Database } from 'better-sqlite3';
import { stmt } from '../schedule/state.js';
import { RUN_STATUSES, type Definitions, type RunStatus, type ScheduleStatus } from '../definitions/model.js';
import { Registry, type Counter, type Gauge, type Histogram } from './metrics.js';
import { scheduleCron } from '../schedule/cron.js';

/** Step duration buckets in seconds: a tenth of a second to a day. */
export const STEP_DURATION_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400] as const;

/** What the metrics read at scrape time. */
export interface MetricsSources {
  db: () => Database;
  defs: () => Definitions | undefined;
  statuses: () => ReadonlyMap<string, ScheduleStatus>;
  lastWake: () => Date | undefined;
  activeRuns: () => number;
  now?: () => Date;
}

/** Every metric of `runner serve`. */
export class ServeMetrics {
  readonly registry = new Registry();
  readonly ticks: Counter;
  readonly missedTicks: Counter;
  readonly runsFinished: Counter;
  readonly stepDuration: Histogram;
  readonly alertFailures: Counter;
  readonly alerts: Counter;
  readonly reloads: Counter;
  readonly reloadErrors: Counter;
  readonly retentionDeleted: Counter;
  readonly uncaughtErrors: Counter;
  private readonly runs: Gauge;
  private readonly sinceSuccess: Gauge;
  private readonly lastSuccess: Gauge;
  private readonly scheduleRunning: Gauge;
  private readonly nextTick: Gauge;
  private readonly lastWake: Gauge;
  private readonly inProgress: Gauge;
  private readonly rss: Gauge;
  private readonly cpu: Gauge;
  private readonly startTime: Gauge;
  private readonly definitionsLoadedAt: Gauge;
  /** When the definitions in force were loaded. */
  loadedAt: Date | undefined;

  constructor(private readonly src: MetricsSources) {
    const r = this.registry;
    this.runs = r.gauge('runner_runs', 'Recorded runs by status (all processes sharing the store).');
    this.runsFinished = r.counter('runner_serve_runs_finished_total', 'Runs this serve process started that have ended, by schedule and status.');
    this.inProgress = r.gauge('runner_serve_runs_in_progress', 'Runs this serve process started that have not ended.');
    this.stepDuration = r.histogram('runner_step_duration_seconds', 'Durations of the steps of runs this serve process started, by asset and status.', STEP_DURATION_BUCKETS);
    this.ticks = r.counter('runner_schedule_ticks_total', 'Schedule ticks this process claimed, by schedule and outcome (started, skipped, queued, failed).');
    this.missedTicks = r.counter('runner_schedule_missed_ticks_total', 'Ticks missed while serve was down that the catch-up policy left out.');
    this.scheduleRunning = r.gauge('runner_schedule_running', 'Whether a schedule is running (1) or stopped (0).');
    this.nextTick = r.gauge('runner_schedule_next_tick_timestamp_seconds', 'When a running schedule ticks next (Unix time).');
    this.sinceSuccess = r.gauge('runner_asset_seconds_since_last_success', 'Seconds since each asset last materialized successfully (assets that never did are absent).');
    this.lastSuccess = r.gauge('runner_asset_last_success_timestamp_seconds', 'When each asset last materialized successfully (Unix time).');
    this.alerts = r.counter('runner_alerts_total', 'Run alerts by outcome (sent, failed, printed).');
    this.alertFailures = r.counter('runner_alert_delivery_failures_total', 'Run alerts whose delivery failed.');
    this.reloads = r.counter('runner_definition_reloads_total', 'Reloads of the pipelines directory, by result (ok, error).');
    this.reloadErrors = r.counter('runner_definition_reload_errors_total', 'Reloads rejected because the changed definitions are invalid (the last good ones stay in force).');
    this.definitionsLoadedAt = r.gauge('runner_definitions_loaded_timestamp_seconds', 'When the definitions in force were loaded (Unix time).');
    this.retentionDeleted = r.counter('runner_retention_deleted_runs_total', 'Runs deleted by retention.');
    this.uncaughtErrors = r.counter('runner_serve_uncaught_errors_total', 'Errors no handler caught that the last-resort guard logged instead of letting serve die, by where (request, daemon).');
    this.lastWake = r.gauge('runner_scheduler_last_wake_timestamp_seconds', 'When the scheduler loop last ran (Unix time).');
    this.rss = r.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.');
    this.cpu = r.gauge('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.');
    this.startTime = r.gauge('process_start_time_seconds', 'When the process started (Unix time).');
    this.startTime.set({}, Math.round(Date.now() / 1000 - process.uptime()));
    for (const s of RUN_STATUSES) this.runs.set({ status: s }, 0);
    // Zeroes for the counters a dashboard alerts on, so they exist before the first event.
    this.alertFailures.inc({}, 0);
    this.reloadErrors.inc({}, 0);
    r.collect(() => this.collectProcess());
    r.collect(() => this.collectSchedules());
    r.collect(() => this.collectStore());
  }

  /** The exposition text. */
  render(): string {
    return this.registry.render();
  }

  private collectProcess(): void {
    this.rss.set({}, process.memoryUsage.rss());
    const cpu = process.cpuUsage();
    this.cpu.set({}, (cpu.user + cpu.system) / 1e6);
    const wake = this.src.lastWake();
    if (wake) this.lastWake.set({}, wake.getTime() / 1000);
    this.inProgress.set({}, this.src.activeRuns());
    if (this.loadedAt) this.definitionsLoadedAt.set({}, this.loadedAt.getTime() / 1000);
  }

  private collectSchedules(): void {
    const defs = this.src.defs();
    this.scheduleRunning.reset();
    this.nextTick.reset();
    if (!defs) return;
    const statuses = this.src.statuses();
    const now = this.src.now?.() ?? new Date();
    for (const def of defs.schedules.values()) {
      const status = statuses.get(def.name) ?? def.defaultStatus;
      this.scheduleRunning.set({ schedule: def.name }, status === 'running' ? 1 : 0);
      if (status !== 'running') continue;
      const next = scheduleCron(def).next(now);
      if (next) this.nextTick.set({ schedule: def.name }, next.getTime() / 1000);
    }
  }

  private collectStore(): void {
    const db = this.src.db();
    const rows = stmt(db, 'SELECT status, COUNT(*) AS n FROM runs GROUP BY status').all() as Array<{ status: RunStatus; n: number }>;
    this.runs.reset();
    for (const s of RUN_STATUSES) this.runs.set({ status: s }, 0);
    for (const r of rows) this.runs.set({ status: r.status }, r.n);

    const defs = this.src.defs();
    const nowS = (this.src.now?.() ?? new Date()).getTime() / 1000;
    // steps_key (key, ended_at) makes this an index walk.
    const last = stmt(db, "SELECT key, MAX(ended_at) AS at FROM steps WHERE status = 'success' GROUP BY key").all() as Array<{ key: string; at: string | null }>;
    this.sinceSuccess.reset();
    this.lastSuccess.reset();
    for (const r of last) {
      if (r.at === null || (defs && !defs.assets.has(r.key))) continue;
      const at = Date.parse(r.at) / 1000;
      if (!Number.isFinite(at)) continue;
      this.lastSuccess.set({ asset: r.key }, at);
      this.sinceSuccess.set({ asset: r.key }, Math.max(0, Math.round((nowS - at) * 1000) / 1000));
    }
  }
}
