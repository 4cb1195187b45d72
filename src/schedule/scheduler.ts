/**
 * The scheduler loop of `runner serve`: one timer, woken at the next tick of any running
 * schedule or after `pollMs` at most (to see `runner schedule start|stop` from other
 * processes). Each wake-up reads the stored statuses (one query), asks the pure core
 * (due.ts) which ticks are due, claims each in the store before starting its run, and
 * starts queued ticks whose previous run ended.
 *
 * Runs are started through an injected `Launcher`, so the loop is tested without the
 * executor, and with a fake clock by calling `wake()` directly.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Definitions, RunStatus, ScheduleDef, ScheduleStatus } from '../definitions/model.js';
import type { Logger } from '../serve/log.js';
import { scheduleCron, formatInZone } from './cron.js';
import { dueTicks, initialCursor } from './due.js';
import { setLongTimeout, type LongTimer } from '../util/timers.js';
import { ServeHandover } from '../execution/handover.js';
import {
  type TickClaim,
  type TickOutcome,
  activeRunsOf,
  claimTick,
  effectiveStatus,
  lastTick,
  oldestQueuedTick,
  promoteQueuedTick,
  readScheduleStates,
  runStatus,
  updateTick,
} from './state.js';

/** What the scheduler asks the launcher to run. */
export interface LaunchRequest {
  /** The id the run must be recorded with (already in the tick's row). */
  runId: string;
  schedule: ScheduleDef;
  tickTime: Date;
  /** The definitions in force when the tick fired. */
  defs: Definitions;
}

/** How a launched run ended. `not_started`: it could not start (bad environment, ...). */
export interface LaunchResult {
  status: RunStatus | 'not_started';
  /** Why it did not start or failed, already masked. */
  error?: string;
}

/** Starts a run and resolves when it has finished; aborting `signal` cancels it. Never rejects on run failure. */
export type Launcher = (request: LaunchRequest, signal: AbortSignal) => Promise<LaunchResult>;

/** Hooks for metrics. */
export interface SchedulerObserver {
  tick?(schedule: string, outcome: TickOutcome): void;
  /** Ticks the catch-up policy left out after serve was down. */
  missed?(schedule: string, count: number): void;
}

/** Options of the scheduler. */
export interface SchedulerOptions {
  db: Database;
  launch: Launcher;
  log: Logger;
  observer?: SchedulerObserver;
  /** The clock (tests pass a fake one). */
  now?: () => Date;
  /** The longest sleep between wake-ups: how soon another process's start/stop is seen (default 2 s). */
  pollMs?: number;
  /** A tick older than this when seen counts as missed (default 60 s). */
  lateAfterMs?: number;
}

/** A run this process started and that has not ended. */
export interface ActiveRun {
  runId: string;
  schedule: string;
  tickTime: string;
  controller: AbortController;
  done: Promise<void>;
}

/** The scheduler of one serve process. */
export class Scheduler {
  private defs: Definitions | undefined;
  private readonly cursors = new Map<string, Date>();
  private readonly statuses = new Map<string, ScheduleStatus>();
  private readonly active = new Map<string, ActiveRun>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** Set for good by stopTicking (shutdown): nothing new starts after it. */
  private stopped = false;
  private readonly now: () => Date;
  private readonly pollMs: number;
  /** When the last wake-up finished (health: the loop is alive). */
  lastWakeAt: Date | undefined;

  constructor(private readonly opts: SchedulerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.pollMs = opts.pollMs ?? 2000;
  }

  /** Puts new definitions in force (hot reload): a removed schedule stops ticking, a changed cron applies from now. */
  setDefinitions(defs: Definitions): void {
    this.defs = defs;
    for (const name of [...this.cursors.keys()]) {
      if (!defs.schedules.has(name)) {
        this.cursors.delete(name);
        this.statuses.delete(name);
        this.opts.log.info('schedule removed: it stops ticking', { schedule: name });
      }
    }
    if (this.ticking) this.kick();
  }

  /** Begins the loop (a first wake-up right away). */
  start(): void {
    this.ticking = true;
    this.kick();
  }

  /** Stops ticking: no new runs start; running runs carry on. */
  stopTicking(): void {
    this.ticking = false;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Whether the loop is on. */
  get isTicking(): boolean {
    return this.ticking;
  }

  /** The runs this process started that have not ended. */
  activeRuns(): ActiveRun[] {
    return [...this.active.values()];
  }

  /** The effective status of each schedule at the last wake-up. */
  scheduleStatuses(): ReadonlyMap<string, ScheduleStatus> {
    return this.statuses;
  }

  /** Schedules a wake-up as soon as possible. */
  private kick(): void {
    if (!this.ticking) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.loop(), 0);
  }

  private loop(): void {
    this.timer = undefined;
    let next: Date | null = null;
    try {
      next = this.wake();
    } catch (err) {
      // A store error (disk full, locked too long) must not kill the loop; health reports it.
      this.opts.log.error('scheduler wake-up failed', { error: err instanceof Error ? err.message : String(err) });
    }
    if (!this.ticking || this.timer) return;
    const nowMs = this.now().getTime();
    const delay = next === null ? this.pollMs : Math.min(this.pollMs, Math.max(0, next.getTime() - nowMs));
    // +1 ms: a timer may fire a little before the tick's millisecond.
    this.timer = setTimeout(() => this.loop(), delay + 1);
  }

  /**
   * One pass: reads statuses, runs due ticks, starts queued ticks. Returns the earliest
   * next tick of a running schedule. Public for tests with a fake clock.
   */
  wake(): Date | null {
    const defs = this.defs;
    const now = this.now();
    if (!defs) return null;
    const { db, log } = this.opts;
    const stored = readScheduleStates(db);
    let earliest: Date | null = null;
    for (const def of defs.schedules.values()) {
      const status = effectiveStatus(def, stored.get(def.name));
      const before = this.statuses.get(def.name);
      this.statuses.set(def.name, status);
      if (status !== 'running') {
        if (before === 'running') log.info('schedule stopped', { schedule: def.name });
        this.cursors.delete(def.name);
        continue;
      }
      if (before !== 'running') log.info('schedule running', { schedule: def.name, cron: def.cron, timezone: def.timezone });
      let cursor = this.cursors.get(def.name);
      if (!cursor) {
        const last = lastTick(db, def.name);
        const state = stored.get(def.name);
        cursor = initialCursor({
          now,
          lastTick: last ? new Date(last.tick_time) : undefined,
          startedAt: state?.status === 'running' ? new Date(state.updated_at) : undefined,
        });
      }
      const plan = dueTicks({ now, cursor, cron: scheduleCron(def), catchup: def.catchup, lateAfterMs: this.opts.lateAfterMs });
      if (now.getTime() > cursor.getTime()) cursor = now;
      this.cursors.set(def.name, cursor);
      if (plan.missed.length > 0) {
        const count = plan.missed.length + (plan.missedMore ? 1 : 0);
        log.warn(`missed ${plan.missedMore ? 'more than ' + plan.missed.length : plan.missed.length} tick(s) while not running; catchup ${def.catchup.policy} leaves them out`, {
          schedule: def.name,
          latest_missed: formatInZone(plan.missed[0]!, def.timezone),
        });
        this.opts.observer?.missed?.(def.name, count);
      }
      // A queued tick goes before new ones.
      this.startQueued(defs, def);
      // Catch-up ticks after the first wait for each other, whatever `overlap` says: `all` means all.
      if (!this.stopped) plan.run.forEach((t, i) => this.fire(defs, def, t, now, i > 0));
      if (plan.next && (earliest === null || plan.next < earliest)) earliest = plan.next;
    }
    for (const name of [...this.statuses.keys()]) if (!defs.schedules.has(name)) this.statuses.delete(name);
    this.lastWakeAt = now;
    return earliest;
  }

  /** Claims a due tick and starts its run, or records why not. */
  private fire(defs: Definitions, def: ScheduleDef, tickTime: Date, now: Date, catchingUp: boolean): void {
    const { db, log } = this.opts;
    const runId = randomUUID();
    const claim = claimTick(db, def.name, tickTime, now, (): TickClaim => {
      const running = this.runningOf(def.name);
      const queued = oldestQueuedTick(db, def.name);
      if (running.length === 0 && !queued) return { outcome: 'started', run_id: runId };
      const ahead = running[0] !== undefined ? `run ${running[0]}` : `the queued tick of ${queued!.tick_time}`;
      if (catchingUp) return { outcome: 'queued', reason: `catching up: waiting for ${ahead}` };
      if (def.overlap === 'skip') {
        return { outcome: 'skipped', reason: running[0] !== undefined ? `the previous run ${running[0]} is still running` : `${ahead} goes first` };
      }
      // One tick waits at most: a run that outlives many intervals must not pile up a backlog.
      if (queued) return { outcome: 'skipped', reason: `the tick of ${queued.tick_time} is already queued behind ${ahead}` };
      return { outcome: 'queued', reason: `waiting for ${ahead} to end` };
    });
    const tick = formatInZone(tickTime, def.timezone);
    if (!claim) {
      log.debug('tick already taken by another process', { schedule: def.name, tick });
      return;
    }
    this.opts.observer?.tick?.(def.name, claim.outcome);
    if (claim.outcome === 'started') {
      log.info('tick: starting run', { schedule: def.name, tick, run_id: runId });
      this.launch(defs, def, tickTime, runId);
    } else {
      log.info(`tick ${claim.outcome}: ${claim.reason}`, { schedule: def.name, tick });
    }
  }

  /** Starts the oldest queued tick of a schedule when its previous run has ended. */
  private startQueued(defs: Definitions, def: ScheduleDef): void {
    if (this.stopped) return;
    if ([...this.active.values()].some((r) => r.schedule === def.name)) return;
    const { db, log } = this.opts;
    const queued = oldestQueuedTick(db, def.name);
    if (!queued) return;
    const runId = randomUUID();
    if (!promoteQueuedTick(db, def.name, queued.tick_time, runId, () => this.runningOf(def.name).length === 0)) return;
    this.opts.observer?.tick?.(def.name, 'started');
    log.info('queued tick: starting run', { schedule: def.name, tick: formatInZone(new Date(queued.tick_time), def.timezone), run_id: runId });
    this.launch(defs, def, new Date(queued.tick_time), runId);
  }

  /** Runs of a schedule not yet ended: this process's, and any other process's in the store. */
  private runningOf(schedule: string): string[] {
    const mine = [...this.active.values()].filter((r) => r.schedule === schedule).map((r) => r.runId);
    const stored = activeRunsOf(this.opts.db, schedule);
    return [...new Set([...mine, ...stored])];
  }

  private launch(defs: Definitions, def: ScheduleDef, tickTime: Date, runId: string): void {
    const { db, log } = this.opts;
    const controller = new AbortController();
    const tickIso = tickTime.toISOString();
    const entry: ActiveRun = { runId, schedule: def.name, tickTime: tickIso, controller, done: Promise.resolve() };
    this.active.set(runId, entry);
    let started: Promise<LaunchResult>;
    try {
      started = this.opts.launch({ runId, schedule: def, tickTime, defs }, controller.signal);
    } catch (err) {
      started = Promise.reject(err);
    }
    entry.done = started
      .then(
        (result) => {
          if (result.status === 'not_started') {
            updateTick(db, def.name, tickIso, { outcome: 'failed', reason: result.error ?? 'the run could not start', run_id: runStatus(db, runId) ? runId : null });
            this.opts.observer?.tick?.(def.name, 'failed');
            log.error(`run could not start: ${result.error ?? 'unknown reason'}`, { schedule: def.name, run_id: runId });
          } else {
            const line = result.error ? `run ended ${result.status}: ${result.error}` : `run ended ${result.status}`;
            (result.status === 'success' ? log.info : log.warn)(line, { schedule: def.name, run_id: runId });
          }
        },
        (err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          if (!runStatus(db, runId)) updateTick(db, def.name, tickIso, { outcome: 'failed', reason: message, run_id: null });
          log.error(`run failed to start or finish: ${message}`, { schedule: def.name, run_id: runId });
        },
      )
      .catch((err: unknown) => log.error('could not record the end of a run', { run_id: runId, error: String(err) }))
      .finally(() => {
        this.active.delete(runId);
        // A queued tick may be waiting for this run.
        this.kick();
      });
  }

  /**
   * Lets running runs finish for up to `graceMs`, then cancels the rest (the launcher
   * terminates their children) and waits for them to end.
   */
  async drain(graceMs: number): Promise<{ finished: number; canceled: number }> {
    this.stopTicking();
    const runs = this.activeRuns();
    if (runs.length === 0) return { finished: 0, canceled: 0 };
    this.opts.log.info(`waiting up to ${Math.round(graceMs / 1000)}s for ${runs.length} run(s) to finish`, { run_ids: runs.map((r) => r.runId) });
    let timer: LongTimer | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setLongTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(runs.map((r) => r.done)), graceOver]);
    timer?.clear();
    const left = this.activeRuns();
    for (const r of left) {
      this.opts.log.warn('grace period over: canceling run (steps running as Kubernetes Jobs are handed over instead)', { schedule: r.schedule, run_id: r.runId });
      // Not a cancel: steps that can outlive serve (Kubernetes Jobs) are handed over to the next one.
      r.controller.abort(new ServeHandover('runner serve is shutting down'));
    }
    await Promise.all(left.map((r) => r.done));
    return { finished: runs.length - left.length, canceled: left.length };
  }
}
