/**
 * Schedule state and ticks in the run store (tables `schedule_state` and `ticks`, created
 * by the store's migrations). Every query of the scheduler and of `runner schedule` is
 * here, over the store's better-sqlite3 connection.
 *
 * At most one run per (schedule, tick time), ever: a tick is claimed by inserting its row
 * (UNIQUE (schedule, tick_time)) in an IMMEDIATE transaction before its run starts; a
 * process whose insert finds the row already there does nothing. This holds across
 * processes sharing one store and across a restart in the middle of a tick.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { ScheduleDef, ScheduleStatus } from '../definitions/model.js';

const statements = new WeakMap<Database, Map<string, Statement>>();

/**
 * A prepared statement, compiled once per connection: the scheduler runs the same few
 * queries every wake-up for weeks, and compiling each time churns native memory.
 */
export function stmt(db: Database, sql: string): Statement {
  let byText = statements.get(db);
  if (!byText) {
    byText = new Map();
    statements.set(db, byText);
  }
  let s = byText.get(sql);
  if (!s) {
    s = db.prepare(sql);
    byText.set(sql, s);
  }
  return s;
}

/** What became of a tick. */
export type TickOutcome =
  /** Its run was started (`run_id` says which). */
  | 'started'
  /** Not run: `reason` says why (overlap, schedule stopped, ...). */
  | 'skipped'
  /** Waiting for the schedule's previous run to end (overlap: queue). */
  | 'queued'
  /** Its run could not be started (bad environment, selection, ...): `reason`. */
  | 'failed';

/** One row of `ticks`. */
export interface TickRecord {
  schedule: string;
  /** ISO 8601 (UTC). */
  tick_time: string;
  run_id: string | null;
  outcome: TickOutcome;
  reason: string | null;
  created_at: string;
}

/** A schedule's stored status: present once someone started or stopped it. */
export interface StoredScheduleState {
  status: ScheduleStatus;
  /** When it was last started or stopped (ISO 8601). */
  updated_at: string;
}

/** Every stored schedule status, by name (one cheap query; the scheduler polls it). */
export function readScheduleStates(db: Database): Map<string, StoredScheduleState> {
  const rows = stmt(db, 'SELECT name, status, updated_at FROM schedule_state').all() as Array<{ name: string } & StoredScheduleState>;
  return new Map(rows.map((r) => [r.name, { status: r.status === 'running' ? 'running' : 'stopped', updated_at: r.updated_at }]));
}

/** The status that applies: the stored one, else the schedule's `default_status`. */
export function effectiveStatus(def: Pick<ScheduleDef, 'defaultStatus'>, stored: StoredScheduleState | undefined): ScheduleStatus {
  return stored?.status ?? def.defaultStatus;
}

/**
 * Starts or stops a schedule. Returns the previous effective status. Stopping drops the
 * schedule's queued ticks (recorded as skipped), as a stopped schedule starts nothing.
 */
export function setScheduleStatus(db: Database, def: Pick<ScheduleDef, 'name' | 'defaultStatus'>, status: ScheduleStatus, now: Date): ScheduleStatus {
  return db
    .transaction((): ScheduleStatus => {
      const row = stmt(db, 'SELECT status, updated_at FROM schedule_state WHERE name = ?').get(def.name) as StoredScheduleState | undefined;
      const before = effectiveStatus(def, row);
      // Keep the time of the last real change: restarting a running schedule must not forget its cursor.
      if (row && row.status === status) return before;
      stmt(db, 'INSERT INTO schedule_state (name, status, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at').run(def.name, status, now.toISOString());
      if (status === 'stopped') {
        stmt(db, "UPDATE ticks SET outcome = 'skipped', reason = 'the schedule was stopped before the tick ran' WHERE schedule = ? AND outcome = 'queued'").run(def.name);
      }
      return before;
    })
    .immediate();
}

/** A schedule's most recent tick. */
export function lastTick(db: Database, schedule: string): TickRecord | undefined {
  return stmt(db, 'SELECT * FROM ticks WHERE schedule = ? ORDER BY tick_time DESC LIMIT 1').get(schedule) as TickRecord | undefined;
}

/** A schedule's ticks, most recent first. */
export function tickHistory(db: Database, schedule: string, limit: number): TickRecord[] {
  return stmt(db, 'SELECT * FROM ticks WHERE schedule = ? ORDER BY tick_time DESC LIMIT ?').all(schedule, limit) as TickRecord[];
}

/** One tick. */
export function getTick(db: Database, schedule: string, tickTime: string): TickRecord | undefined {
  return stmt(db, 'SELECT * FROM ticks WHERE schedule = ? AND tick_time = ?').get(schedule, tickTime) as TickRecord | undefined;
}

/** The ids of a schedule's runs that have not finished (by any process on this store), oldest first. */
export function activeRunsOf(db: Database, schedule: string): string[] {
  const rows = stmt(db, "SELECT id FROM runs WHERE status IN ('queued', 'started') AND json_extract(trigger, '$.type') = 'schedule' AND json_extract(trigger, '$.schedule') = ? ORDER BY created_at")
    .all(schedule) as Array<{ id: string }>;
  return rows.map((r) => r.id);
}

/** The outcome a tick is recorded with when claimed. */
export interface TickClaim {
  outcome: TickOutcome;
  run_id?: string;
  reason?: string;
}

/**
 * Claims a tick: inside one IMMEDIATE transaction, if nobody recorded (schedule, tick
 * time) yet, asks `decide` what to record (it may read the store, e.g. for a run still
 * running) and inserts it. Returns the claim, or undefined when the tick was already
 * taken (by another process, or before a restart).
 */
export function claimTick(db: Database, schedule: string, tickTime: Date, now: Date, decide: () => TickClaim): TickClaim | undefined {
  const iso = tickTime.toISOString();
  return db
    .transaction((): TickClaim | undefined => {
      if (getTick(db, schedule, iso)) return undefined;
      const claim = decide();
      const r = stmt(db, 'INSERT INTO ticks (schedule, tick_time, run_id, outcome, reason, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (schedule, tick_time) DO NOTHING')
        .run(schedule, iso, claim.run_id ?? null, claim.outcome, claim.reason ?? null, now.toISOString());
      return r.changes === 1 ? claim : undefined;
    })
    .immediate();
}

/** A schedule's oldest queued tick. */
export function oldestQueuedTick(db: Database, schedule: string): TickRecord | undefined {
  return stmt(db, "SELECT * FROM ticks WHERE schedule = ? AND outcome = 'queued' ORDER BY tick_time LIMIT 1").get(schedule) as TickRecord | undefined;
}

/**
 * Turns a queued tick into a started one with the given run id, if it is still queued and
 * `ready()` (checked inside the transaction) agrees. True when this process won it.
 */
export function promoteQueuedTick(db: Database, schedule: string, tickTime: string, runId: string, ready: () => boolean): boolean {
  return db
    .transaction((): boolean => {
      if (!ready()) return false;
      const r = stmt(db, "UPDATE ticks SET outcome = 'started', run_id = ? WHERE schedule = ? AND tick_time = ? AND outcome = 'queued'").run(runId, schedule, tickTime);
      return r.changes === 1;
    })
    .immediate();
}

/** Records what finally became of a claimed tick (e.g. its run could not start). */
export function updateTick(db: Database, schedule: string, tickTime: string, change: { outcome: TickOutcome; reason?: string | null; run_id?: string | null }): void {
  stmt(db, 'UPDATE ticks SET outcome = ?, reason = ?, run_id = ? WHERE schedule = ? AND tick_time = ?').run(
    change.outcome,
    change.reason ?? null,
    change.run_id ?? null,
    schedule,
    tickTime,
  );
}

/** The most recent tick of every schedule that has one. */
export function lastTicks(db: Database): Map<string, TickRecord> {
  const rows = stmt(db, 'SELECT t.* FROM ticks t JOIN (SELECT schedule, MAX(tick_time) AS m FROM ticks GROUP BY schedule) l ON t.schedule = l.schedule AND t.tick_time = l.m')
    .all() as TickRecord[];
  return new Map(rows.map((r) => [r.schedule, r]));
}

/** A run's status, or undefined when the store has no such run. */
export function runStatus(db: Database, runId: string): string | undefined {
  const row = stmt(db, 'SELECT status FROM runs WHERE id = ?').get(runId) as { status: string } | undefined;
  return row?.status;
}

/** A schedule's run created before `runId` (for `run_recovered`: did the previous run fail?). */
export function previousRunOf(db: Database, schedule: string, runId: string): { id: string; status: string } | undefined {
  return stmt(db, `SELECT id, status FROM runs
       WHERE json_extract(trigger, '$.type') = 'schedule' AND json_extract(trigger, '$.schedule') = ? AND id != ?
         AND created_at <= COALESCE((SELECT created_at FROM runs WHERE id = ?), '9999')
       ORDER BY created_at DESC, rowid DESC LIMIT 1`)
    .get(schedule, runId, runId) as { id: string; status: string } | undefined;
}
