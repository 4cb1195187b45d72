/**
 * Who is serving a store: each `runner serve` keeps a row in `serve_processes` with a
 * heartbeat. The heartbeat is also the health check's proof that the store is writable (a
 * real committed write), and `runner schedule start|stop` uses the rows to say whether a
 * running serve will pick the change up.
 */
import os from 'node:os';
import type { Database } from 'better-sqlite3';
import { stmt } from '../schedule/state.js';

/** A serve process as recorded. */
export interface ServeProcess {
  id: string;
  pid: number;
  host: string;
  address: string | null;
  started_at: string;
  heartbeat_at: string;
}

/** A serve whose heartbeat is older than this is presumed gone. */
export const PRESENCE_STALE_MS = 60_000;

/** This process as it records itself. */
export interface ServeIdentity {
  id: string;
  address: string | null;
  startedAt: Date;
}

/**
 * Records this serve process, or refreshes its heartbeat (a real committed write: it
 * throws when the store cannot be written).
 */
export function heartbeat(db: Database, me: ServeIdentity, now: Date): void {
  stmt(db, `INSERT INTO serve_processes (id, pid, host, address, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, address = excluded.address`).run(me.id, process.pid, os.hostname(), me.address, me.startedAt.toISOString(), now.toISOString());
}

/** Removes this serve process's row (clean shutdown). */
export function unregisterServe(db: Database, id: string): void {
  stmt(db, 'DELETE FROM serve_processes WHERE id = ?').run(id);
}

/** Serve processes with a recent heartbeat. */
export function liveServes(db: Database, now: Date, staleMs = PRESENCE_STALE_MS): ServeProcess[] {
  const since = new Date(now.getTime() - staleMs).toISOString();
  return stmt(db, 'SELECT * FROM serve_processes WHERE heartbeat_at >= ? ORDER BY started_at').all(since) as ServeProcess[];
}

/** Deletes rows of serves whose heartbeat stopped long ago (a killed serve leaves its row). */
export function forgetStaleServes(db: Database, now: Date, staleMs = PRESENCE_STALE_MS * 10): number {
  return stmt(db, 'DELETE FROM serve_processes WHERE heartbeat_at < ?').run(new Date(now.getTime() - staleMs).toISOString()).changes;
}
