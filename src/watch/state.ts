/**
 * Watchers in the run store: status and cursor (`watcher_state`), one row per failed run
 * seen (`watcher_alerts`: the claim and what became of its alert) and poll errors
 * (`watcher_events`). Every query of the poller and of `runner watcher` is here.
 *
 * Exactly once. A failed run is claimed by inserting its row (UNIQUE (watcher, run_id))
 * in an IMMEDIATE transaction that also advances the cursor; only the process whose
 * insert succeeded owns it, so two serves on one store, or one restarted, never both
 * alert. The owner then moves the claim `claimed → sending` (a conditional update: it
 * must still own it) right before the HTTP request, and records `sent`, `printed` or
 * `failed` after. A `failed` claim is retried by any poller when due. A `claimed` claim
 * whose owner died (same machine: its pid and start time no longer match) or whose lease
 * ran out is taken over: nothing was sent yet. A `sending` claim whose owner died may or
 * may not have reached Slack: it becomes `uncertain` and is not sent again (at most once).
 *
 * Retries (retry.ts). A run Dagster says it will retry is recorded `retry_pending` and read
 * again by later polls: it becomes `skipped` once the retry has started, or `claimed` (then
 * alerted as above) when Dagster takes the retry back or the wait runs out. A `skipped` run
 * that Dagster lists again with `dagster/will_retry=false` is claimed too.
 */
import type { Database } from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { ScheduleStatus, WatcherDef } from '../definitions/model.js';
import { stmt } from '../schedule/state.js';
import { machineId, processStartTime } from '../storage/proc.js';

/** What became of a failed run's alert. */
export type AlertStatus = 'claimed' | 'sending' | 'sent' | 'printed' | 'failed' | 'retry_pending' | 'skipped' | 'uncertain' | 'given_up';

/** Statuses after which nothing more happens to a claim. */
export const FINAL_STATUSES: readonly AlertStatus[] = ['sent', 'printed', 'skipped', 'uncertain', 'given_up'];

/** Where a watcher is in Dagster's history: times are Dagster's `updateTime` (seconds since the epoch). */
export interface WatcherCursor {
  /** When the watcher was (last) started: nothing before it is alerted. */
  since: number;
  /** The latest `updateTime` of a failed run claimed or recorded as waiting for a retry. */
  updated_after: number;
}

/** One row of `watcher_state`. */
export interface WatcherStateRow {
  name: string;
  status: ScheduleStatus;
  /** `set`: someone started or stopped it; `default`: the row only holds the cursor, `default_status` applies. */
  status_source: 'set' | 'default';
  cursor: string | null;
  updated_at: string;
  last_poll_at: string | null;
  last_success_at: string | null;
  /** Polls that failed in a row. */
  failures: number;
  last_error: string | null;
}

/** One row of `watcher_alerts`. */
export interface AlertRow {
  watcher: string;
  run_id: string;
  status: AlertStatus;
  job: string | null;
  location: string | null;
  run_updated_at: number | null;
  claimed_at: string;
  owner: string | null;
  owner_pid: number | null;
  owner_start: string | null;
  owner_machine: string | null;
  lease_until: string | null;
  attempts: number;
  next_attempt_at: string | null;
  message: string | null;
  targets: string | null;
  detail: string | null;
  sent_at: string | null;
}

/** One row of `watcher_events`: a run of identical poll errors, or a recovery. */
export interface WatcherEventRow {
  id: number;
  watcher: string;
  kind: 'error' | 'recovered';
  detail: string | null;
  first_at: string;
  last_at: string;
  count: number;
}

/** Who holds a claim: a poller instance, with the process that runs it. */
export interface Owner {
  id: string;
  pid: number;
  start: string | null;
  machine: string;
}

/** A new owner identity for this process. */
export function newOwner(): Owner {
  return { id: randomUUID(), pid: process.pid, start: processStartTime(process.pid), machine: machineId() };
}

const iso = (d: Date): string => d.toISOString();

/** The stored cursor, or undefined when there is none (or it is unreadable). */
export function parseCursor(text: string | null | undefined): WatcherCursor | undefined {
  if (!text) return undefined;
  try {
    const c = JSON.parse(text) as Partial<WatcherCursor>;
    if (typeof c.since === 'number' && typeof c.updated_after === 'number') return { since: c.since, updated_after: c.updated_after };
  } catch {
    /* unreadable: start afresh */
  }
  return undefined;
}

function getState(db: Database, name: string): WatcherStateRow | undefined {
  return stmt(db, 'SELECT * FROM watcher_state WHERE name = ?').get(name) as WatcherStateRow | undefined;
}

/** Every stored watcher state, by name (one query; serve reads it every second). */
export function readWatcherStates(db: Database): Map<string, WatcherStateRow> {
  const rows = stmt(db, 'SELECT * FROM watcher_state').all() as WatcherStateRow[];
  return new Map(rows.map((r) => [r.name, r]));
}

/** The status that applies: the one someone set, else the watcher's `default_status`. */
export function effectiveWatcherStatus(def: Pick<WatcherDef, 'defaultStatus'>, row: WatcherStateRow | undefined): ScheduleStatus {
  return row && row.status_source === 'set' ? (row.status === 'running' ? 'running' : 'stopped') : def.defaultStatus;
}

/**
 * Starts or stops a watcher; returns the status before. Starting a stopped watcher
 * starts its cursor now: failures while it was stopped are not alerted (as a started
 * schedule does not catch up on ticks). A running watcher keeps its cursor.
 */
export function setWatcherStatus(db: Database, def: Pick<WatcherDef, 'name' | 'defaultStatus'>, status: ScheduleStatus, now: Date): ScheduleStatus {
  return db
    .transaction((): ScheduleStatus => {
      const row = getState(db, def.name);
      const before = effectiveWatcherStatus(def, row);
      if (row && row.status_source === 'set' && row.status === status) return before;
      const t = now.getTime() / 1000;
      const cursor = status === 'running' && before !== 'running' ? JSON.stringify({ since: t, updated_after: t }) : (row?.cursor ?? null);
      stmt(db, `INSERT INTO watcher_state (name, status, status_source, cursor, updated_at) VALUES (?, ?, 'set', ?, ?)
         ON CONFLICT (name) DO UPDATE SET status = excluded.status, status_source = 'set', cursor = excluded.cursor, updated_at = excluded.updated_at`).run(def.name, status, cursor, iso(now));
      return before;
    })
    .immediate();
}

/** The watcher's cursor; a watcher that has none yet (running by default, first poll) starts it at `now`. */
export function ensureCursor(db: Database, def: Pick<WatcherDef, 'name' | 'defaultStatus'>, now: Date): WatcherCursor {
  return db
    .transaction((): WatcherCursor => {
      const row = getState(db, def.name);
      const found = parseCursor(row?.cursor);
      if (found) return found;
      const t = now.getTime() / 1000;
      const cursor = { since: t, updated_after: t };
      if (row) stmt(db, 'UPDATE watcher_state SET cursor = ? WHERE name = ?').run(JSON.stringify(cursor), def.name);
      else stmt(db, "INSERT INTO watcher_state (name, status, status_source, cursor, updated_at) VALUES (?, ?, 'default', ?, ?)").run(def.name, def.defaultStatus, JSON.stringify(cursor), iso(now));
      return cursor;
    })
    .immediate();
}

/** A failed run to claim, or to record as waiting for Dagster's retry (with the reason). */
export interface ClaimItem {
  runId: string;
  job: string;
  location: string;
  updateTime: number;
  /** Dagster says it will retry the run: recorded `retry_pending` with this reason. */
  pending?: string;
  /** Why a run recorded `skipped` or `retry_pending` before is alerted after all (Dagster took its retry back). */
  takenBack?: string;
}

/**
 * Claims the runs not claimed before (by anyone) and moves the cursor forward to
 * `advanceTo`, in one IMMEDIATE transaction. A run to alert whose row is `skipped` or
 * `retry_pending` (Dagster took its retry back) is claimed over it. Returns the run ids this
 * call claimed, those it recorded as pending, and those of the claimed it took over from a
 * `skipped` or `retry_pending` row.
 */
export function claimRuns(db: Database, watcher: string, items: ClaimItem[], advanceTo: number | null, owner: Owner, now: Date, leaseMs: number): { claimed: string[]; pending: string[]; takenBack: string[] } {
  const claimed: string[] = [];
  const pending: string[] = [];
  const takenBack: string[] = [];
  const before = stmt(db, 'SELECT status FROM watcher_alerts WHERE watcher = ? AND run_id = ?');
  const insert = stmt(
    db,
    `INSERT INTO watcher_alerts (watcher, run_id, status, job, location, run_updated_at, claimed_at, owner, owner_pid, owner_start, owner_machine, lease_until, detail)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (watcher, run_id) DO UPDATE SET
       status = 'claimed', run_updated_at = excluded.run_updated_at, owner = excluded.owner, owner_pid = excluded.owner_pid,
       owner_start = excluded.owner_start, owner_machine = excluded.owner_machine, lease_until = excluded.lease_until,
       detail = ?
     WHERE excluded.status = 'claimed' AND watcher_alerts.status IN ('skipped', 'retry_pending')`,
  );
  db.transaction(() => {
    for (const it of items) {
      const mine = it.pending === undefined;
      const was = (before.get(watcher, it.runId) as { status: AlertStatus } | undefined)?.status;
      const r = insert.run(
        watcher,
        it.runId,
        mine ? 'claimed' : 'retry_pending',
        it.job,
        it.location,
        it.updateTime,
        iso(now),
        mine ? owner.id : null,
        mine ? owner.pid : null,
        mine ? owner.start : null,
        mine ? owner.machine : null,
        mine ? iso(new Date(now.getTime() + leaseMs)) : null,
        it.pending ?? null,
        it.takenBack ?? 'Dagster took its retry back: this failure is final.',
      );
      if (r.changes === 1) (mine ? claimed : pending).push(it.runId);
      if (r.changes === 1 && was !== undefined) takenBack.push(it.runId);
    }
    if (advanceTo !== null) {
      const cur = parseCursor(getState(db, watcher)?.cursor);
      if (cur && advanceTo > cur.updated_after) stmt(db, 'UPDATE watcher_state SET cursor = ? WHERE name = ?').run(JSON.stringify({ ...cur, updated_after: advanceTo }), watcher);
    }
  }).immediate();
  return { claimed, pending, takenBack };
}

/**
 * Whether a claim's holder is gone. On this machine its pid and start time say so for
 * certain; elsewhere only its lease can. A `claimed` claim is also free once its lease
 * ends (taking it over is safe: its holder can no longer mark it `sending`); a `sending`
 * one of a live process on this machine is never judged by its lease.
 */
export function ownerGone(row: Pick<AlertRow, 'status' | 'owner_pid' | 'owner_start' | 'owner_machine' | 'lease_until'>, now: Date): boolean {
  const expired = row.lease_until !== null && row.lease_until < iso(now);
  if (row.owner_machine !== machineId() || row.owner_pid === null) return expired;
  if (processStartTime(row.owner_pid) !== row.owner_start) return true;
  return row.status === 'claimed' && expired;
}

/**
 * The claims a poller may work on now, oldest run first: its own `claimed` ones, `failed`
 * ones due for a retry, and `claimed` / `sending` ones of owners that are gone (the caller
 * takes over the first, and marks the second `uncertain`).
 */
export function pendingClaims(db: Database, watcher: string, owner: Owner, now: Date): AlertRow[] {
  const rows = stmt(
    db,
    `SELECT * FROM watcher_alerts WHERE watcher = ? AND (
       (status IN ('claimed', 'sending') AND (owner IS NULL OR owner != ? OR status = 'claimed'))
       OR (status = 'failed' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)))
     ORDER BY run_updated_at, claimed_at`,
  ).all(watcher, owner.id, iso(now)) as AlertRow[];
  return rows.filter((r) => r.status === 'failed' || (r.status === 'claimed' && r.owner === owner.id) || ownerGone(r, now));
}

/** Takes a claim over (a retry, or a dead owner's): true when this owner now holds it. */
export function takeClaim(db: Database, row: AlertRow, owner: Owner, now: Date, leaseMs: number): boolean {
  const r = stmt(
    db,
    `UPDATE watcher_alerts SET status = 'claimed', owner = ?, owner_pid = ?, owner_start = ?, owner_machine = ?, lease_until = ?
     WHERE watcher = ? AND run_id = ? AND status = ? AND owner IS ?`,
  ).run(owner.id, owner.pid, owner.start, owner.machine, iso(new Date(now.getTime() + leaseMs)), row.watcher, row.run_id, row.status, row.owner);
  return r.changes === 1;
}

/** Records that a dead owner was sending: it is not sent again. True when this call recorded it. */
export function markUncertain(db: Database, row: AlertRow, now: Date): boolean {
  const detail = `the process sending it (pid ${row.owner_pid ?? '?'}) stopped while sending at ${now.toISOString()}: Slack may or may not have received it, so it is not sent again`;
  return stmt(db, "UPDATE watcher_alerts SET status = 'uncertain', detail = ? WHERE watcher = ? AND run_id = ? AND status = 'sending' AND owner IS ?").run(detail, row.watcher, row.run_id, row.owner).changes === 1;
}

/** Keeps the built message with the claim (retries send the same message without asking Dagster again). */
export function saveMessage(db: Database, watcher: string, runId: string, owner: Owner, message: string): void {
  stmt(db, "UPDATE watcher_alerts SET message = ? WHERE watcher = ? AND run_id = ? AND status = 'claimed' AND owner = ?").run(message, watcher, runId, owner.id);
}

/** `claimed → sending`, right before the HTTP request; false when this owner no longer holds the claim. */
export function markSending(db: Database, watcher: string, runId: string, owner: Owner, now: Date, leaseMs: number): boolean {
  return (
    stmt(db, "UPDATE watcher_alerts SET status = 'sending', attempts = attempts + 1, lease_until = ? WHERE watcher = ? AND run_id = ? AND status = 'claimed' AND owner = ?").run(
      iso(new Date(now.getTime() + leaseMs)),
      watcher,
      runId,
      owner.id,
    ).changes === 1
  );
}

/** What a delivery attempt came to. */
export interface DeliveryRecord {
  status: 'sent' | 'printed' | 'failed' | 'given_up';
  /** Notification name → its outcome. */
  targets: Record<string, string>;
  detail: string;
  nextAttemptAt: Date | null;
  sentAt: Date | null;
}

/** Records the outcome of a delivery this owner made. */
export function finishDelivery(db: Database, watcher: string, runId: string, owner: Owner, rec: DeliveryRecord): void {
  stmt(db, "UPDATE watcher_alerts SET status = ?, targets = ?, detail = ?, next_attempt_at = ?, sent_at = ?, lease_until = NULL WHERE watcher = ? AND run_id = ? AND status = 'sending' AND owner = ?").run(
    rec.status,
    JSON.stringify(rec.targets),
    rec.detail,
    rec.nextAttemptAt ? iso(rec.nextAttemptAt) : null,
    rec.sentAt ? iso(rec.sentAt) : null,
    watcher,
    runId,
    owner.id,
  );
}

/** Records a poll that reached Dagster; returns how many polls had failed in a row before it. */
export function recordPollSuccess(db: Database, def: Pick<WatcherDef, 'name' | 'defaultStatus'>, now: Date): number {
  return db
    .transaction((): number => {
      const row = getState(db, def.name);
      const before = row?.failures ?? 0;
      if (before > 0) insertEvent(db, def.name, 'recovered', `Dagster answered again after ${before} failed poll${before === 1 ? '' : 's'}`, now);
      stmt(db, 'UPDATE watcher_state SET last_poll_at = ?, last_success_at = ?, failures = 0, last_error = NULL WHERE name = ?').run(iso(now), iso(now), def.name);
      return before;
    })
    .immediate();
}

/** Records a failed poll (consecutive identical errors share one event row); returns the failures in a row. */
export function recordPollFailure(db: Database, def: Pick<WatcherDef, 'name' | 'defaultStatus'>, message: string, now: Date): number {
  return db
    .transaction((): number => {
      if (!getState(db, def.name)) {
        stmt(db, "INSERT INTO watcher_state (name, status, status_source, cursor, updated_at) VALUES (?, ?, 'default', NULL, ?)").run(def.name, def.defaultStatus, iso(now));
      }
      stmt(db, 'UPDATE watcher_state SET last_poll_at = ?, failures = failures + 1, last_error = ? WHERE name = ?').run(iso(now), message, def.name);
      const last = stmt(db, 'SELECT * FROM watcher_events WHERE watcher = ? ORDER BY id DESC LIMIT 1').get(def.name) as WatcherEventRow | undefined;
      if (last && last.kind === 'error' && last.detail === message) {
        stmt(db, 'UPDATE watcher_events SET count = count + 1, last_at = ? WHERE id = ?').run(iso(now), last.id);
      } else {
        insertEvent(db, def.name, 'error', message, now);
      }
      return (getState(db, def.name)?.failures ?? 1) as number;
    })
    .immediate();
}

function insertEvent(db: Database, watcher: string, kind: WatcherEventRow['kind'], detail: string, now: Date): void {
  stmt(db, 'INSERT INTO watcher_events (watcher, kind, detail, first_at, last_at, count) VALUES (?, ?, ?, ?, ?, 1)').run(watcher, kind, detail, iso(now), iso(now));
}

/** A watcher's claims, newest first. */
export function alertHistory(db: Database, watcher: string, limit: number): AlertRow[] {
  return stmt(db, 'SELECT * FROM watcher_alerts WHERE watcher = ? ORDER BY claimed_at DESC, run_updated_at DESC LIMIT ?').all(watcher, limit) as AlertRow[];
}

/** A watcher's poll errors and recoveries, newest first. */
export function eventHistory(db: Database, watcher: string, limit: number): WatcherEventRow[] {
  return stmt(db, 'SELECT * FROM watcher_events WHERE watcher = ? ORDER BY last_at DESC, id DESC LIMIT ?').all(watcher, limit) as WatcherEventRow[];
}

/** Claims per watcher and status. */
export function alertCounts(db: Database): Map<string, Partial<Record<AlertStatus, number>>> {
  const rows = stmt(db, 'SELECT watcher, status, COUNT(*) AS n FROM watcher_alerts GROUP BY watcher, status').all() as Array<{ watcher: string; status: AlertStatus; n: number }>;
  const out = new Map<string, Partial<Record<AlertStatus, number>>>();
  for (const r of rows) out.set(r.watcher, { ...out.get(r.watcher), [r.status]: r.n });
  return out;
}

/**
 * Deletes a watcher's finished claims and its events older than `before` (retention).
 * A claim is kept while its run could still come back in a poll (`keepAfter`: the
 * cursor minus the look-back), so deleting it can never cause a second alert.
 */
export function pruneWatcher(db: Database, watcher: string, before: Date, keepAfter: number): { alerts: number; events: number } {
  const done = FINAL_STATUSES.map((s) => `'${s}'`).join(', ');
  const alerts = stmt(db, `DELETE FROM watcher_alerts WHERE watcher = ? AND claimed_at < ? AND status IN (${done}) AND (run_updated_at IS NULL OR run_updated_at < ?)`).run(watcher, iso(before), keepAfter).changes;
  const events = stmt(db, 'DELETE FROM watcher_events WHERE watcher = ? AND last_at < ?').run(watcher, iso(before)).changes;
  return { alerts, events };
}
