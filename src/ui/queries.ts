/**
 * The store reads the UI needs beyond `runner runs`: each asset's last finished step and
 * the step running now, runs filtered by trigger and asset, an asset's recent runs. Runs
 * come back in the JSON shape of `runner runs --json` (storage/records.ts).
 */
import type { Database } from 'better-sqlite3';
import type { Store } from '../storage/store.js';
import { toRunRecord, type RunRow, type StepRow } from '../storage/records.js';
import type { RunRecord, RunStatus, StepStatus } from '../storage/types.js';

/** An asset's latest step that reached a final status (what `status:` selections read). */
export interface LastStep {
  run_id: string;
  status: StepStatus;
  attempts: number;
  started_at: string | null;
  ended_at: string | null;
  /** ended_at - started_at, when both are known. */
  duration_ms: number | null;
  exit_code: number | null;
  metadata: Record<string, unknown> | null;
  error: string | null;
}

/** A step of an unfinished run: the asset is being materialized (or waits to be). */
export interface CurrentStep {
  run_id: string;
  status: 'running' | 'pending';
}

function parseMeta(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function duration(a: string | null, b: string | null): number | null {
  return a && b ? Math.max(0, Date.parse(b) - Date.parse(a)) : null;
}

/** Per asset key, its last finished step (by end time, then run age: as `lastStepStatuses`). */
export function lastSteps(db: Database): Map<string, LastStep> {
  const rows = db
    .prepare(
      `SELECT * FROM (
         SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.key ORDER BY s.ended_at DESC, r.created_at DESC, r.rowid DESC) AS n
         FROM steps s JOIN runs r ON r.id = s.run_id
         WHERE s.status IN ('success', 'failure', 'skipped', 'canceled')
       ) WHERE n = 1`,
    )
    .all() as StepRow[];
  return new Map(
    rows.map((r) => [
      r.key,
      {
        run_id: r.run_id,
        status: r.status,
        attempts: r.attempts,
        started_at: r.started_at,
        ended_at: r.ended_at,
        duration_ms: duration(r.started_at, r.ended_at),
        exit_code: r.exit_code,
        metadata: parseMeta(r.metadata),
        error: r.error,
      },
    ]),
  );
}

/** Per asset key, a step of an unfinished run (a running one before a pending one). */
export function currentSteps(db: Database): Map<string, CurrentStep> {
  const rows = db
    .prepare(
      `SELECT s.key, s.run_id, s.status FROM steps s JOIN runs r ON r.id = s.run_id
       WHERE r.status IN ('queued', 'started') AND s.status IN ('running', 'pending')
       ORDER BY CASE s.status WHEN 'running' THEN 0 ELSE 1 END, r.created_at DESC`,
    )
    .all() as Array<{ key: string; run_id: string; status: 'running' | 'pending' }>;
  const out = new Map<string, CurrentStep>();
  for (const r of rows) if (!out.has(r.key)) out.set(r.key, { run_id: r.run_id, status: r.status });
  return out;
}

/** Filters of the runs list. */
export interface RunFilter {
  status?: RunStatus;
  /** `manual`, `schedule` (any schedule), `retry` (runs of `runner retry`), or a schedule's name. */
  trigger?: string;
  /** Runs with a step for this asset key. */
  asset?: string;
  /** Runs recorded at or after this ISO time. */
  since?: string;
  /** Runs recorded before this ISO time. */
  until?: string;
  limit: number;
  /** How many of the newest matching runs to pass over (paging). */
  offset?: number;
}

/** Runs matching `f`, newest first, as `runner runs --json` prints them. */
export function filterRuns(store: Store, f: RunFilter): RunRecord[] {
  const { sql, params } = runsWhere(store, f);
  const rows = store.db.prepare(`SELECT r.* FROM runs r ${sql} ORDER BY r.created_at DESC, r.rowid DESC LIMIT ? OFFSET ?`).all(...params, f.limit, f.offset ?? 0) as RunRow[];
  return withSteps(store, rows);
}

/** How many runs match `f` (its limit and offset aside). */
export function countRuns(store: Store, f: RunFilter): number {
  const { sql, params } = runsWhere(store, f);
  return (store.db.prepare(`SELECT COUNT(*) AS n FROM runs r ${sql}`).get(...params) as { n: number }).n;
}

function runsWhere(store: Store, f: RunFilter): { sql: string; params: unknown[] } {
  store.flush();
  const db = store.db;
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.status) {
    where.push('r.status = ?');
    params.push(f.status);
  }
  if (f.trigger === 'manual' || f.trigger === 'schedule' || f.trigger === 'retry') {
    where.push("json_extract(r.trigger, '$.type') = ?");
    params.push(f.trigger);
  } else if (f.trigger) {
    where.push("json_extract(r.trigger, '$.type') = 'schedule' AND json_extract(r.trigger, '$.schedule') = ?");
    params.push(f.trigger);
  }
  if (f.asset) {
    where.push('EXISTS (SELECT 1 FROM steps s WHERE s.run_id = r.id AND s.key = ?)');
    params.push(f.asset);
  }
  // created_at is an ISO time in UTC (same width), so text order is time order.
  if (f.since) {
    where.push('r.created_at >= ?');
    params.push(f.since);
  }
  if (f.until) {
    where.push('r.created_at < ?');
    params.push(f.until);
  }
  return { sql: where.length ? 'WHERE ' + where.join(' AND ') : '', params };
}

function withSteps(store: Store, rows: RunRow[]): RunRecord[] {
  if (rows.length === 0) return [];
  const steps = new Map<string, StepRow[]>(rows.map((r) => [r.id, []]));
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const found = store.db.prepare(`SELECT * FROM steps WHERE run_id IN (${chunk.map(() => '?').join(',')}) ORDER BY run_id, position`).all(...chunk) as StepRow[];
    for (const s of found) steps.get(s.run_id)!.push(s);
  }
  return rows.map((r) => toRunRecord(store.home, r, steps.get(r.id)!));
}

/** The schedules and the trigger words seen in stored runs (for the runs filter). */
export function triggerNames(db: Database): string[] {
  const rows = db.prepare("SELECT DISTINCT json_extract(trigger, '$.schedule') AS s FROM runs WHERE json_extract(trigger, '$.type') = 'schedule'").all() as Array<{ s: string | null }>;
  return rows.map((r) => r.s).filter((s): s is string => typeof s === 'string').sort();
}
