/** Reading runs back: rows to the JSON shapes of types.ts, lookups by id prefix, listings, a run's events. */
import type { Database } from 'better-sqlite3';
import { type Result, fail, ok } from '../diagnostics/diagnostic.js';
import type { AlertRecord, RunRecord, RunStatus, StepRecord, StepStatus, Trigger } from './types.js';
import { stepLogPath } from './logs.js';
import type { RunEvent } from '../execution/events.js';

/** A row of `runs`. */
export interface RunRow {
  id: string;
  status: RunStatus;
  trigger: string;
  retry_of: string | null;
  env: string;
  selection: string;
  job: string | null;
  pipelines_dir: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  error: string | null;
  alert: string | null;
  owner_pid: number | null;
  owner_start: string | null;
  owner_machine: string | null;
  heartbeat_at: string | null;
}

/** A row of `steps`. */
export interface StepRow {
  run_id: string;
  key: string;
  position: number;
  status: StepStatus;
  attempts: number;
  started_at: string | null;
  ended_at: string | null;
  exit_code: number | null;
  metadata: string | null;
  error: string | null;
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** A run row and its step rows as the JSON record. */
export function toRunRecord(home: string, row: RunRow, steps: StepRow[]): RunRecord {
  return {
    id: row.id,
    status: row.status,
    trigger: parseJson<Trigger>(row.trigger, { type: 'manual' }),
    retry_of: row.retry_of ?? null,
    env: row.env,
    selection: row.selection,
    job: row.job,
    started_at: row.started_at,
    ended_at: row.ended_at,
    error: row.error,
    alert: parseJson<AlertRecord | null>(row.alert, null),
    steps: steps.map((s) => toStepRecord(home, s)),
  };
}

function toStepRecord(home: string, s: StepRow): StepRecord {
  return {
    key: s.key,
    status: s.status,
    attempts: s.attempts,
    started_at: s.started_at,
    ended_at: s.ended_at,
    exit_code: s.exit_code,
    metadata: parseJson<Record<string, unknown> | null>(s.metadata, null),
    error: s.error,
    log: stepLogPath(home, s.run_id, s.key),
  };
}

function stepsOf(db: Database, runIds: string[]): Map<string, StepRow[]> {
  const out = new Map<string, StepRow[]>(runIds.map((id) => [id, []]));
  // Chunks keep the statement under SQLite's variable limit.
  for (let i = 0; i < runIds.length; i += 500) {
    const chunk = runIds.slice(i, i + 500);
    const rows = db
      .prepare(`SELECT * FROM steps WHERE run_id IN (${chunk.map(() => '?').join(',')}) ORDER BY run_id, position`)
      .all(...chunk) as StepRow[];
    for (const r of rows) out.get(r.run_id)!.push(r);
  }
  return out;
}

/**
 * The run whose id is `idOrPrefix` or starts with it. Unknown and ambiguous prefixes are
 * error values with a message for the user.
 */
export function findRun(db: Database, home: string, idOrPrefix: string): Result<RunRecord> {
  const prefix = idOrPrefix.trim().toLowerCase();
  if (prefix === '') return fail({ message: 'a run id is required' });
  const exact = db.prepare('SELECT * FROM runs WHERE id = ?').get(prefix) as RunRow | undefined;
  let row = exact;
  if (!row) {
    const rows = db.prepare('SELECT * FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 6').all(prefix, prefix + '\uffff') as RunRow[];
    if (rows.length === 0) return fail({ message: `no run has id \`${idOrPrefix}\` (see \`runner runs\`)` });
    if (rows.length > 1) {
      const shown = rows.slice(0, 5).map((r) => r.id);
      return fail({
        message: `run id \`${idOrPrefix}\` is ambiguous: it starts ${rows.length > 5 ? 'more than 5' : rows.length} runs' ids; give more characters`,
        detail: shown.map((id) => `  ${id}`),
      });
    }
    row = rows[0]!;
  }
  return ok(toRunRecord(home, row, stepsOf(db, [row.id]).get(row.id)!));
}

/** Runs, newest first, optionally of one status. */
export function listRuns(db: Database, home: string, q: { limit?: number; status?: RunStatus }): RunRecord[] {
  const where = q.status ? 'WHERE status = ?' : '';
  const limit = q.limit !== undefined ? 'LIMIT ?' : '';
  const params: unknown[] = [];
  if (q.status) params.push(q.status);
  if (q.limit !== undefined) params.push(q.limit);
  const rows = db.prepare(`SELECT * FROM runs ${where} ORDER BY created_at DESC, rowid DESC ${limit}`).all(...params) as RunRow[];
  const steps = stepsOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => toRunRecord(home, r, steps.get(r.id)!));
}

/** Per asset key, the status of its latest finished step (by end time, then run age). */
export function lastStepStatuses(db: Database): Map<string, StepStatus> {
  const rows = db
    .prepare(
      `SELECT key, status FROM (
         SELECT s.key, s.status, ROW_NUMBER() OVER (PARTITION BY s.key ORDER BY s.ended_at DESC, r.created_at DESC, r.rowid DESC) AS n
         FROM steps s JOIN runs r ON r.id = s.run_id
         WHERE s.status IN ('success', 'failure', 'skipped', 'canceled')
       ) WHERE n = 1`,
    )
    .all() as Array<{ key: string; status: StepStatus }>;
  return new Map(rows.map((r) => [r.key, r.status]));
}

/** The retries of a run (`runner retry`), oldest first: their ids and statuses. */
export function retriesOf(db: Database, runId: string): Array<{ id: string; status: RunStatus }> {
  return db.prepare('SELECT id, status FROM runs WHERE retry_of = ? ORDER BY created_at, rowid').all(runId) as Array<{ id: string; status: RunStatus }>;
}

/** The recorded events of a run, in order (log lines are in the log files, not here). */
export function listEvents(db: Database, runId: string): RunEvent[] {
  const rows = db.prepare('SELECT * FROM events WHERE run_id = ? ORDER BY id').all(runId) as Array<Record<string, unknown>>;
  return rows.map((r) => {
    const e: RunEvent = { ts: r['ts'] as string, type: r['type'] as RunEvent['type'], run_id: r['run_id'] as string };
    if (r['key'] !== null) e.key = r['key'] as string;
    if (r['attempt'] !== null) e.attempt = r['attempt'] as number;
    if (r['status'] !== null) e.status = r['status'] as RunEvent['status'];
    if (r['message'] !== null) e.message = r['message'] as string;
    if (r['data'] !== null) e.data = JSON.parse(r['data'] as string) as Record<string, unknown>;
    return e;
  });
}
