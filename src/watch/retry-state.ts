/**
 * The `retry_pending` rows of `watcher_alerts` (runs Dagster said it will retry, see
 * retry.ts): read again by every poll and settled once, by whichever poller gets there
 * first (conditional updates).
 */
import type { Database } from 'better-sqlite3';
import { stmt } from '../schedule/state.js';
import type { AlertRow, Owner } from './state.js';

/** The runs waiting for Dagster's retry, oldest first (each poll reads them again). */
export function retryPending(db: Database, watcher: string): AlertRow[] {
  return stmt(db, "SELECT * FROM watcher_alerts WHERE watcher = ? AND status = 'retry_pending' ORDER BY run_updated_at, claimed_at").all(watcher) as AlertRow[];
}

/**
 * Settles a `retry_pending` run: `skipped` (Dagster's retry started) or `claimed` by
 * `owner` (to alert, with `detail` saying why). False when someone settled it first.
 */
export function settleRetry(db: Database, watcher: string, runId: string, outcome: 'skipped' | 'claimed', detail: string, owner: Owner, now: Date, leaseMs: number): boolean {
  if (outcome === 'skipped') {
    return stmt(db, "UPDATE watcher_alerts SET status = 'skipped', detail = ? WHERE watcher = ? AND run_id = ? AND status = 'retry_pending'").run(detail, watcher, runId).changes === 1;
  }
  return (
    stmt(
      db,
      `UPDATE watcher_alerts SET status = 'claimed', detail = ?, owner = ?, owner_pid = ?, owner_start = ?, owner_machine = ?, lease_until = ?
       WHERE watcher = ? AND run_id = ? AND status = 'retry_pending'`,
    ).run(detail, owner.id, owner.pid, owner.start, owner.machine, new Date(now.getTime() + leaseMs).toISOString(), watcher, runId).changes === 1
  );
}
