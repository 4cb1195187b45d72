/**
 * Who owns an unfinished run: the process that created it (its pid, start time and
 * machine, written with the run) or that adopted it after a handover (handover.ts). The
 * owner refreshes the run's heartbeat while it runs, which is how the reaper (reaper.ts)
 * judges a run owned on another machine.
 */
import type { Database as DB } from 'better-sqlite3';
import { InputError } from '../diagnostics/diagnostic.js';
import type { Prepare } from './database.js';
import { machineId, processStartTime } from './proc.js';
import type { RunMeta } from './types.js';

const now = (): string => new Date().toISOString();

/**
 * Inserts a new run as `queued` with one `pending` step per key, owned by this process.
 * A retry is refused (InputError) while another retry of the same run is unfinished: the
 * check and the insert are one transaction, so a double click or a CLI retry at the same
 * time never starts two.
 */
export function insertRun(db: DB, stmt: Prepare, meta: RunMeta): void {
  const at = now();
  const insertRun = stmt(
    `INSERT INTO runs (id, status, trigger, retry_of, env, selection, job, pipelines_dir, created_at, owner_pid, owner_start, owner_machine, heartbeat_at)
     VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertStep = stmt(`INSERT INTO steps (run_id, key, position, status) VALUES (?, ?, ?, 'pending')`);
  const owner = [process.pid, processStartTime(process.pid), machineId()] as const;
  db.transaction(() => {
    const retryOf = meta.trigger.type === 'retry' ? meta.trigger.retry_of : null;
    const running = retryOf === null ? undefined : unfinishedRetryOf(stmt, retryOf);
    if (running !== undefined) throw new InputError(`run ${retryOf} is already being retried by run ${running}, which has not finished: wait for it (runner show ${running}) or cancel it`);
    insertRun.run(meta.id, JSON.stringify(meta.trigger), retryOf, meta.env, meta.selection, meta.job ?? null, meta.pipelinesDir, at, ...owner, at);
    meta.keys.forEach((key, i) => insertStep.run(meta.id, key, i));
    // IMMEDIATE: the write lock is taken before the check, so another process cannot insert between.
  }).immediate();
}

/** The unfinished run (queued or started) retrying `runId`, if any. */
export function unfinishedRetryOf(stmt: Prepare, runId: string): string | undefined {
  const row = stmt(`SELECT id FROM runs WHERE retry_of = ? AND status IN ('queued', 'started') ORDER BY created_at LIMIT 1`).get(runId) as { id: string } | undefined;
  return row?.id;
}

/** Marks the runs this process owns alive: `beat` every `intervalMs` while started (the timer does not keep the process up). */
export class RunHeartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly beat: () => void,
  ) {}

  /** Starts beating, unless it already is. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(this.beat, this.intervalMs);
    this.timer.unref();
  }

  /** Stops beating (until the next start). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Sets the heartbeat of each run to now, in one transaction. */
export function markAlive(db: DB, runIds: Iterable<string>): void {
  const beat = db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?');
  const at = now();
  db.transaction(() => {
    for (const id of runIds) beat.run(at, id);
  })();
}
