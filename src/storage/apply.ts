/**
 * How each run event changes the `runs` and `steps` rows, as prepared statements on one
 * connection. Called inside the store's flush transaction; `log` events never come here
 * (their lines go to files).
 */
import type { Database } from 'better-sqlite3';
import type { RunEvent } from '../execution/events.js';

/** The exit code an event carries in `data.exit_code` (or `data.exitCode`). */
function exitCodeOf(e: RunEvent): number | null {
  const v = e.data?.['exit_code'] ?? e.data?.['exitCode'];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * The step metadata an event carries in `data.metadata`, with `data.warnings` (texts)
 * folded in: as `warnings`, or as `warning_messages` when the handler's metadata already
 * has a `warnings` of its own (the OpenMetadata summary's count).
 */
function metadataOf(e: RunEvent): string | null {
  const m = e.data?.['metadata'];
  const meta = m !== null && typeof m === 'object' && !Array.isArray(m) ? { ...(m as Record<string, unknown>) } : undefined;
  const warnings = e.data?.['warnings'];
  if (Array.isArray(warnings) && warnings.length > 0) {
    const out = meta ?? {};
    if (out['warnings'] === undefined) out['warnings'] = warnings;
    else if (JSON.stringify(out['warnings']) !== JSON.stringify(warnings)) out['warning_messages'] = warnings;
    return JSON.stringify(out);
  }
  return meta ? JSON.stringify(meta) : null;
}

/** Returns a function applying one (non-log) event to the rows and appending it to `events`. */
export function makeApplier(db: Database): (e: RunEvent) => void {
  const insertEvent = db.prepare(`INSERT INTO events (run_id, ts, type, key, attempt, status, message, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const runStarted = db.prepare(`UPDATE runs SET status = 'started', started_at = COALESCE(started_at, ?) WHERE id = ?`);
  const runFinished = db.prepare(`UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE id = ?`);
  // A run that ends with steps not finished (the executor should not do this) must not show them running forever.
  const leftovers = db.prepare(
    `UPDATE steps SET status = 'canceled', ended_at = ?, error = COALESCE(error, 'the run ended before this step finished') WHERE run_id = ? AND status IN ('pending', 'running')`,
  );
  const dropSlots = db.prepare('DELETE FROM pool_slots WHERE run_id = ?');
  const stepStarted = db.prepare(
    `UPDATE steps SET status = 'running', attempts = COALESCE(?, attempts + 1), started_at = COALESCE(started_at, ?), ended_at = NULL, error = NULL, exit_code = NULL WHERE run_id = ? AND key = ?`,
  );
  const retry = db.prepare(`UPDATE steps SET error = ?, exit_code = COALESCE(?, exit_code), metadata = COALESCE(?, metadata) WHERE run_id = ? AND key = ?`);
  const stepEnded = db.prepare(
    `UPDATE steps SET status = ?, ended_at = ?, error = ?, exit_code = COALESCE(?, exit_code), metadata = COALESCE(?, metadata), attempts = MAX(attempts, COALESCE(?, 0)) WHERE run_id = ? AND key = ?`,
  );

  return (e) => {
    insertEvent.run(e.run_id, e.ts, e.type, e.key ?? null, e.attempt ?? null, e.status ?? null, e.message ?? null, e.data ? JSON.stringify(e.data) : null);
    switch (e.type) {
      case 'run_started':
        runStarted.run(e.ts, e.run_id);
        break;
      case 'run_finished': {
        const status = e.status === 'success' || e.status === 'canceled' ? e.status : 'failure';
        runFinished.run(status, e.ts, e.message ?? null, e.run_id);
        leftovers.run(e.ts, e.run_id);
        dropSlots.run(e.run_id);
        break;
      }
      case 'step_started':
        if (e.key !== undefined) stepStarted.run(e.attempt ?? null, e.ts, e.run_id, e.key);
        break;
      case 'retry_scheduled':
        if (e.key !== undefined) retry.run(e.message ?? null, exitCodeOf(e), metadataOf(e), e.run_id, e.key);
        break;
      case 'step_succeeded':
        if (e.key !== undefined) stepEnded.run('success', e.ts, null, exitCodeOf(e), metadataOf(e), e.attempt ?? null, e.run_id, e.key);
        break;
      case 'step_failed':
        if (e.key !== undefined) stepEnded.run('failure', e.ts, e.message ?? null, exitCodeOf(e), metadataOf(e), e.attempt ?? null, e.run_id, e.key);
        break;
      case 'step_skipped':
        if (e.key !== undefined) stepEnded.run('skipped', e.ts, e.message ?? null, null, null, null, e.run_id, e.key);
        break;
      case 'step_canceled':
        if (e.key !== undefined) stepEnded.run('canceled', e.ts, e.message ?? null, exitCodeOf(e), metadataOf(e), e.attempt ?? null, e.run_id, e.key);
        break;
      case 'log':
        break;
    }
  };
}
