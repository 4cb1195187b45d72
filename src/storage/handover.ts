/**
 * Runs a stopping serve handed over (execution/handover.ts) in the store: `runs.handed_over_at`
 * is set while no runner owns the run, `steps.handed_over` names the Job of each step
 * that runs on. The reaper leaves such a run alone (reaper.ts, `HANDED_OVER`); the next
 * serve adopts it (the owner becomes that serve) and carries it on.
 */
import type { Database } from 'better-sqlite3';
import { machineId, processStartTime } from './proc.js';
import type { StepStatus } from './types.js';

/** A step as the executor left it at a handover. */
export interface HandedOverStep {
  key: string;
  status: StepStatus;
  metadata?: Record<string, unknown>;
}

/**
 * Marks the run handed over. A `running` step is a Job that runs on (its Job from
 * `metadata.kubernetes_job`, its metadata kept); a `pending` one that had begun (waiting
 * for its retry) is pending again.
 */
export function markHandedOver(db: Database, runId: string, steps: ReadonlyArray<HandedOverStep>): void {
  db.transaction(() => {
    db.prepare(`UPDATE runs SET handed_over_at = ? WHERE id = ? AND status IN ('queued', 'started')`).run(new Date().toISOString(), runId);
    const job = db.prepare(`UPDATE steps SET handed_over = ?, metadata = COALESCE(?, metadata) WHERE run_id = ? AND key = ?`);
    const again = db.prepare(`UPDATE steps SET status = 'pending', ended_at = NULL WHERE run_id = ? AND key = ? AND status = 'running'`);
    for (const s of steps) {
      if (s.status === 'running') job.run(String(s.metadata?.['kubernetes_job'] ?? ''), s.metadata ? JSON.stringify(s.metadata) : null, runId, s.key);
      else if (s.status === 'pending') again.run(runId, s.key);
    }
  })();
}

/** The unfinished handed-over runs, oldest first. */
export function handedOverRuns(db: Database): Array<{ id: string; env: string }> {
  return db.prepare(`SELECT id, env FROM runs WHERE handed_over_at IS NOT NULL AND status IN ('queued', 'started') ORDER BY created_at, rowid`).all() as Array<{ id: string; env: string }>;
}

/** Makes this process the run's owner if it is still handed over (one taker only); returns its handed-over steps. */
export function adoptRun(db: Database, runId: string): Array<{ key: string; job: string }> | undefined {
  const owner = [process.pid, processStartTime(process.pid), machineId()] as const;
  return db
    .transaction(() => {
      const changed = db
        .prepare(`UPDATE runs SET owner_pid = ?, owner_start = ?, owner_machine = ?, heartbeat_at = ?, handed_over_at = NULL WHERE id = ? AND handed_over_at IS NOT NULL AND status IN ('queued', 'started')`)
        .run(...owner, new Date().toISOString(), runId).changes;
      if (changed === 0) return undefined;
      const rows = db.prepare(`SELECT key, handed_over AS job FROM steps WHERE run_id = ? AND handed_over IS NOT NULL ORDER BY position`).all(runId) as Array<{ key: string; job: string }>;
      db.prepare(`UPDATE steps SET handed_over = NULL WHERE run_id = ?`).run(runId);
      return rows;
    })
    .immediate();
}
