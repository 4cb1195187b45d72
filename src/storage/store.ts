/**
 * The run store: embedded SQLite (better-sqlite3, WAL) at `<RUNNER_HOME>/runner.db`, with
 * step logs as files under `<RUNNER_HOME>/logs/`. It is one consumer of the executor's
 * event stream (an EventSink) and the only place run history is read from.
 *
 * Progress events are batched: `emit` queues, and a flush writes the queue in one
 * transaction (on a ~50 ms timer, at `run_finished`, and on close). A step's end (success,
 * failure, skipped, canceled) is committed before `emit` returns, together with what was
 * queued before it: the store is the first sink of a run, so no renderer shows a step as
 * finished before it is recorded, and a SIGKILL at any moment loses no finished step (a
 * WAL commit is in the OS's page cache when it returns). What else must survive a crash
 * the moment it happens is written at once too: a child's pid and cgroup to the run's
 * process ledger (an append, see ledger.ts), a pool slot in its own transaction.
 *
 * Opening the database is database.ts, a run's owner and heartbeat ownership.ts, the
 * shared pool slots pool-slots.ts, reading runs back records.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database as DB, Statement } from 'better-sqlite3';
import type { EventSink, RunEvent } from '../execution/events.js';
import type { Result } from '../diagnostics/diagnostic.js';
import { type Prepare, openDatabase } from './database.js';
import { LogWriter, runLogDir, stepLogPath } from './logs.js';
import { makeApplier } from './apply.js';
import { Ledger } from './ledger.js';
import { findRun, lastStepStatuses, listEvents, listRuns, retriesOf } from './records.js';
import { reapOrphans, type ReapOptions } from './reaper.js';
import { processStartTime } from './proc.js';
import { RunHeartbeat, insertRun, markAlive, unfinishedRetryOf } from './ownership.js';
import { StorePoolSlots } from './pool-slots.js';
import { type HandedOverStep, adoptRun, handedOverRuns, markHandedOver } from './handover.js';
import type { RunMeta, RunRecord, RunStatus, StepStatus } from './types.js';

export type { Trigger, RunMeta, StepRecord, RunRecord, AlertRecord } from './types.js';

/** Tuning of one store; the defaults suit the CLI. */
export interface StoreOptions {
  /** Reap orphaned runs on open (default true). */
  reap?: boolean;
  /** SIGTERM to SIGKILL for children of dead runs (default 3 s). */
  killGraceMs?: number;
  /** How often queued events are written (default 50 ms). */
  flushMs?: number;
  /** How often this process marks its unfinished runs alive (default 15 s). */
  heartbeatMs?: number;
  /** A run owned by another machine whose heartbeat is older than this is orphaned (default 2 min). */
  staleMs?: number;
}

const DEFAULTS = { reap: true, killGraceMs: 3000, flushMs: 50, heartbeatMs: 15_000, staleMs: 120_000 };

const STEP_ENDS = new Set<RunEvent['type']>(['step_succeeded', 'step_failed', 'step_skipped', 'step_canceled']);

/** The run store of one RUNNER_HOME. */
export class Store implements EventSink {
  /** The RUNNER_HOME directory, absolute. */
  readonly home: string;
  /** Ids of the runs this open reaped (their runner had died), for whoever wants to report them. */
  readonly reaped: string[] = [];
  private readonly opts: Required<StoreOptions>;
  private conn: DB | undefined;
  private apply: ((e: RunEvent) => void) | undefined;
  private readonly statements = new Map<string, Statement>();
  private pending: RunEvent[] = [];
  private readonly ledger: Ledger;
  private readonly logs = new LogWriter();
  private timer: NodeJS.Timeout | undefined;
  private readonly heartbeat: RunHeartbeat;
  private readonly owned = new Set<string>();
  private readonly pools: StorePoolSlots;
  private readonly reported = new Set<string>();
  private readonly onExit = (): void => this.flush();

  private constructor(home: string, opts: Required<StoreOptions>) {
    this.home = home;
    this.opts = opts;
    this.ledger = new Ledger(home);
    this.heartbeat = new RunHeartbeat(opts.heartbeatMs, () => {
      try {
        this.flush();
        markAlive(this.db, this.owned);
      } catch (err) {
        this.report(err);
      }
    });
    this.pools = new StorePoolSlots({ db: () => this.db, stmt: this.stmt, reapOptions: () => this.reapOptions() });
  }

  /** Opens (creating, migrating) the store at `<home>/runner.db`, then reaps runs whose runner died. */
  static open(home: string, options: StoreOptions = {}): Store {
    const store = new Store(path.resolve(home), { ...DEFAULTS, ...options });
    store.connect();
    if (store.opts.reap) store.reaped.push(...store.reapOrphans());
    return store;
  }

  /** The better-sqlite3 connection, for the scheduler's tables (schedule_state, ticks, watcher_*). Reopened if closed. */
  get db(): DB {
    return this.conn ?? this.connect();
  }

  /** A prepared statement of the current connection, prepared once. */
  private readonly stmt: Prepare = (sql) => {
    const db = this.db;
    let st = this.statements.get(sql);
    if (!st) {
      st = db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  };

  private connect(): DB {
    const db = openDatabase(this.home);
    this.conn = db;
    this.apply = makeApplier(db);
    process.on('exit', this.onExit);
    if (this.owned.size > 0) this.startHeartbeat();
    return db;
  }

  /**
   * Records that serve stopped and handed the run over (see handover.ts): no runner owns
   * it until the next serve adopts it.
   */
  handOver(runId: string, steps: ReadonlyArray<HandedOverStep>): void {
    this.flush();
    markHandedOver(this.db, runId, steps);
    this.logs.closeUnder(runLogDir(this.home, runId));
    this.ledger.finish(runId);
    this.owned.delete(runId);
    if (this.owned.size === 0) this.stopHeartbeat();
  }

  /** The unfinished runs a stopped serve handed over, oldest first, with their environments. */
  handedOverRuns(): Array<{ id: string; env: string }> {
    this.flush();
    return handedOverRuns(this.db);
  }

  /**
   * Takes up a handed-over run: this process owns it from now on (heartbeat, reaper).
   * Returns its handed-over steps (key and Job), or undefined when another serve took it
   * first or it is no longer handed over.
   */
  adoptRun(runId: string): Array<{ key: string; job: string }> | undefined {
    const steps = adoptRun(this.db, runId);
    if (steps === undefined) return undefined;
    this.owned.add(runId);
    this.startHeartbeat();
    return steps;
  }

  /** The unfinished run (queued or started) retrying `runId`, if any. */
  unfinishedRetryOf(runId: string): string | undefined {
    return unfinishedRetryOf(this.stmt, runId);
  }

  /**
   * Records a new run as `queued` with one `pending` step per key, owned by this process.
   * A retry is refused (InputError) while another retry of the same run is unfinished: the
   * check and the insert are one transaction, so a double click or a CLI retry at the same
   * time never starts two.
   */
  createRun(meta: RunMeta): void {
    insertRun(this.db, this.stmt, meta);
    fs.mkdirSync(runLogDir(this.home, meta.id), { recursive: true });
    this.owned.add(meta.id);
    this.startHeartbeat();
  }

  /** Consumes one event: queued for the next flush; a `log` line goes to the step's log file. Never throws. */
  emit(e: RunEvent): void {
    try {
      if (e.type === 'log') {
        if (e.key !== undefined && e.line !== undefined) this.logs.append(this.logPath(e.run_id, e.key), e.line, e.partial === true || e.data?.['eol'] === false, e.stream, e.source_ts);
      } else {
        this.pending.push(e);
      }
      if (STEP_ENDS.has(e.type) && e.key !== undefined) {
        // A finished step's log is complete: write it and free its descriptor (runs may have thousands of steps).
        this.logs.finish(this.logPath(e.run_id, e.key));
      }
      if (STEP_ENDS.has(e.type)) {
        // Durable before any later sink (the live view) sees it.
        this.commit();
      } else if (e.type === 'run_finished') {
        this.flush();
        this.logs.closeUnder(runLogDir(this.home, e.run_id));
        this.ledger.finish(e.run_id);
        this.owned.delete(e.run_id);
        if (this.owned.size === 0) {
          this.stopHeartbeat();
          this.logPaths.clear(); // no run in flight: a long-lived `serve` keeps no path per past step
        }
      } else {
        this.schedule();
      }
    } catch (err) {
      this.report(err);
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.opts.flushMs);
    this.timer.unref();
  }

  /** Writes queued log lines, then queued events in one transaction. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.logs.flush();
    if (this.logs.error) this.report(this.logs.error);
    this.commit();
  }

  /** Commits the queued events in one transaction (log lines stay batched). */
  private commit(): void {
    if (this.pending.length === 0 || !this.conn) return;
    const batch = this.pending;
    this.pending = [];
    const db = this.conn;
    const apply = this.apply!;
    try {
      db.transaction(() => {
        for (const e of batch) apply(e);
      })();
    } catch (err) {
      // Keep the batch for the next flush (e.g. the database was busy for longer than busy_timeout).
      this.pending = batch.concat(this.pending);
      this.report(err);
      this.schedule();
    }
  }

  private report(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.reported.has(message)) return;
    this.reported.add(message);
    process.stderr.write(`runner: could not write run history in ${this.home}: ${message}\n`);
  }

  /** `<home>/logs/<run-id>/<key with / replaced by __>.log`. */
  logPath(runId: string, key: string): string {
    // Memoised: every log line asks, and path.join per line was a third of the time of a step printing 500 MB.
    const id = runId + '\u0000' + key;
    let p = this.logPaths.get(id);
    if (p === undefined) {
      if (this.logPaths.size >= 10_000) this.logPaths.clear(); // bounded for a long-lived `serve`
      this.logPaths.set(id, (p = stepLogPath(this.home, runId, key)));
    }
    return p;
  }
  private readonly logPaths = new Map<string, string>();

  /**
   * Remembers a child process (group leader) and its start time so a later runner can reap
   * it. Written at once to the run's process ledger (one append, see ledger.ts): a runner
   * killed a moment after a spawn must not leave an unrecorded child.
   */
  recordProcess(runId: string, key: string, pid: number, start?: string): void {
    this.toLedger(() => this.ledger.record(runId, key, pid, start ?? processStartTime(pid)));
  }

  /** Forgets a child process that ended. */
  forgetProcess(runId: string, key: string, pid: number): void {
    this.toLedger(() => this.ledger.forget(runId, key, pid));
  }

  /** Records a step's cgroup before it is made (the ledger, at once), so a later runner can empty and remove it. */
  recordCgroup(runId: string, _key: string, dir: string): void {
    this.toLedger(() => this.ledger.recordCgroup(runId, dir));
  }

  /** Forgets a step's cgroup once it is removed. */
  forgetCgroup(runId: string, _key: string, dir: string): void {
    this.toLedger(() => this.ledger.forgetCgroup(runId, dir));
  }

  /** A ledger write that must not break the run: a failure is reported once. */
  private toLedger(write: () => void): void {
    try {
      write();
    } catch (err) {
      this.report(err);
    }
  }

  /** The run with this id or unique id prefix; undefined when none or several match (see `findRun`). */
  getRun(idOrPrefix: string): RunRecord | undefined {
    const r = this.findRun(idOrPrefix);
    return r.ok ? r.value : undefined;
  }

  /** Like `getRun`, with a message for the user when the id is unknown or ambiguous. */
  findRun(idOrPrefix: string): Result<RunRecord> {
    this.flush();
    return findRun(this.db, this.home, idOrPrefix);
  }

  /** Runs, newest first. */
  listRuns(q: { limit?: number; status?: RunStatus } = {}): RunRecord[] {
    this.flush();
    return listRuns(this.db, this.home, q);
  }

  /** The runs that retried this one (`runner retry`), oldest first. */
  retriesOf(runId: string): Array<{ id: string; status: RunStatus }> {
    this.flush();
    return retriesOf(this.db, runId);
  }

  /** Per asset key, the status of its latest finished step (for `status:` selections). */
  lastStepStatuses(): Map<string, StepStatus> {
    this.flush();
    return lastStepStatuses(this.db);
  }

  /** The recorded events of a run, in order (log lines are in the log files, not here). */
  listEvents(runId: string): RunEvent[] {
    this.flush();
    return listEvents(this.db, runId);
  }

  /** Records whether the run's alert went out. */
  setAlert(runId: string, alert: RunRecord['alert']): void {
    this.flush();
    this.db.prepare('UPDATE runs SET alert = ? WHERE id = ?').run(alert === null ? null : JSON.stringify(alert), runId);
  }

  /**
   * Takes a slot of `pool` for one step if fewer than `limit` are held across all runs of
   * this RUNNER_HOME; false when the pool is full (try again later). Holding one already is true.
   */
  acquirePoolSlot(pool: string, limit: number, runId: string, key: string): boolean {
    return this.pools.acquirePoolSlot(pool, limit, runId, key);
  }

  /** Gives a pool slot back. */
  releasePoolSlot(pool: string, runId: string, key: string): void {
    this.pools.releasePoolSlot(pool, runId, key);
  }

  /** Reaps runs whose runner died (done by `open`; long-lived readers call it again). Returns their ids. */
  reapOrphans(): string[] {
    this.flush();
    return reapOrphans(this.db, this.reapOptions());
  }

  private reapOptions(): ReapOptions {
    return { home: this.home, graceMs: this.opts.killGraceMs, staleMs: this.opts.staleMs, own: this.owned };
  }

  private startHeartbeat(): void {
    this.heartbeat.start();
  }

  private stopHeartbeat(): void {
    this.heartbeat.stop();
  }

  /**
   * Writes everything queued and closes the database and log files. Safe to call more
   * than once; the store reopens on its next use (an executor may close its sinks after a
   * run while the command still reads the run back).
   */
  close(): void {
    this.flush();
    this.logs.close();
    this.ledger.close();
    if (this.pending.length > 0) this.report(new Error(`${this.pending.length} events could not be written`));
    this.stopHeartbeat();
    if (!this.conn) return;
    process.off('exit', this.onExit);
    this.statements.clear();
    this.conn.close();
    this.conn = undefined;
    this.apply = undefined;
  }
}
