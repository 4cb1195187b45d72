/**
 * Pool slots shared by every run of one RUNNER_HOME (`pool_slots`): a step takes one of
 * its asset's pool in its own transaction, so two runners never exceed a pool's limit; a
 * full pool frees the slots of holders whose runner died before it says no.
 */
import type { Database as DB } from 'better-sqlite3';
import type { PoolSlots } from '../execution/pools.js';
import type { Prepare } from './database.js';
import type { RunRow } from './records.js';
import { freeInactivePoolSlots, isOrphaned, reapRun, type ReapOptions } from './reaper.js';

const now = (): string => new Date().toISOString();

/** The store's pool slots (Store.acquirePoolSlot/releasePoolSlot). */
export class StorePoolSlots implements PoolSlots {
  private readonly poolChecks = new Map<string, number>();

  constructor(private readonly store: PoolSlotsStore) {}

  /**
   * Takes a slot of `pool` for one step if fewer than `limit` are held across all runs of
   * this RUNNER_HOME; false when the pool is full (try again later). Holding one already is true.
   */
  acquirePoolSlot(pool: string, limit: number, runId: string, key: string): boolean {
    if (this.tryAcquire(pool, limit, runId, key)) return true;
    // Full: at most once a second, free slots whose holders died, then try again.
    const last = this.poolChecks.get(pool) ?? 0;
    if (Date.now() - last < 1000) return false;
    this.poolChecks.set(pool, Date.now());
    if (this.reapPoolHolders(pool) === 0) return false;
    return this.tryAcquire(pool, limit, runId, key);
  }

  /** Gives a pool slot back. */
  releasePoolSlot(pool: string, runId: string, key: string): void {
    this.store.stmt('DELETE FROM pool_slots WHERE pool = ? AND run_id = ? AND key = ?').run(pool, runId, key);
  }

  private tryAcquire(pool: string, limit: number, runId: string, key: string): boolean {
    const db = this.store.db();
    const stmt = this.store.stmt;
    return db
      .transaction(() => {
        if (stmt('SELECT 1 FROM pool_slots WHERE pool = ? AND run_id = ? AND key = ?').get(pool, runId, key)) return true;
        const held = (stmt('SELECT COUNT(*) AS n FROM pool_slots WHERE pool = ?').get(pool) as { n: number }).n;
        if (held >= limit) return false;
        stmt('INSERT INTO pool_slots (pool, run_id, key, acquired_at) VALUES (?, ?, ?, ?)').run(pool, runId, key, now());
        return true;
      })
      .immediate();
  }

  private reapPoolHolders(pool: string): number {
    const db = this.store.db();
    let freed = 0;
    const holders = db
      .prepare(
        `SELECT DISTINCT r.id, r.status, r.owner_pid, r.owner_start, r.owner_machine, r.heartbeat_at, r.created_at
         FROM pool_slots p LEFT JOIN runs r ON r.id = p.run_id WHERE p.pool = ?`,
      )
      .all(pool) as Array<RunRow | Record<string, null>>;
    for (const h of holders) {
      if (h.id === null || h.status === null || (h.status !== 'queued' && h.status !== 'started')) continue;
      const reap = this.store.reapOptions();
      if (isOrphaned(h as RunRow, reap) && reapRun(db, reap.home, h as RunRow, reap.graceMs)) freed++;
    }
    return freed + freeInactivePoolSlots(db);
  }
}

/** What the pool slots use of their store. */
export interface PoolSlotsStore {
  /** The store's connection (reopened if closed). */
  db(): DB;
  stmt: Prepare;
  /** How the reaper judges a holder's run (its owner, RUNNER_HOME, the kill grace). */
  reapOptions(): ReapOptions;
}
