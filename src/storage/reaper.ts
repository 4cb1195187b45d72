/**
 * The reaper: runs whose runner died. Every `Store.open` (so every runner command) looks
 * at runs still `queued`/`started`; one whose owner is gone is marked `failure` ("the
 * runner exited"), its running steps `failure`, its pending steps `canceled`, its pool
 * slots freed, and its child processes are terminated: those it recorded, but only a child
 * whose pid is alive with the start time recorded for it (a pid reused by another program
 * is never signalled), every process in the step cgroups its ledger names, and every
 * process carrying the run's mark (`RUNNER_STEP=<run-id>/...`, see
 * execution/containment/marks.ts), also one it died too soon to record.
 *
 * A run a stopping serve handed over (`handed_over_at`, every running step a Job it let
 * go of, see execution/handover.ts) is not orphaned: it waits for the next serve, which
 * takes it up (`Store.adoptRun`).
 *
 * Who owns a run: the pid, start time and pid namespace ("machine") of the process that
 * created it. On the same machine the pid tells; a run owned elsewhere (another container
 * sharing the volume) is judged by its heartbeat, which its owner refreshes while it runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { RunRow } from './records.js';
import { type KillTarget, isRunning, machineId, procInfo, terminate } from './proc.js';
import { type LedgerEntry, readRunLedger, removeLedger } from './ledger.js';
import { clearCgroups, runProcesses } from '../execution/containment/reap.js';
import { removeCgroup, runCgroupsByName, stepCgroups } from '../execution/containment/cgroup.js';
import { removeStaleOwnCgroups } from '../execution/containment/own-cgroup.js';

/** The reason written on reaped runs and their running steps. */
export const RUNNER_EXITED = 'the runner exited';

/** SQL (on `runs`): the run was handed over and each of its running steps is a Job that was. */
export const HANDED_OVER = `(runs.handed_over_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM steps h WHERE h.run_id = runs.id AND h.status = 'running' AND h.handed_over IS NULL))`;

/** How the reaper decides and how long it waits. */
export interface ReapOptions {
  /** RUNNER_HOME (where the runs' process ledgers are). */
  home: string;
  /** SIGTERM to SIGKILL, for children of dead runs. */
  graceMs: number;
  /** A foreign run whose heartbeat is older than this is orphaned. */
  staleMs: number;
  /** Runs this process owns (never orphaned). */
  own: ReadonlySet<string>;
  now?: number;
}

type OwnerRow = Pick<RunRow, 'id' | 'owner_pid' | 'owner_start' | 'owner_machine' | 'heartbeat_at' | 'created_at'>;

/** True when the process that owns this run is gone. */
export function isOrphaned(row: OwnerRow, opts: ReapOptions): boolean {
  if (opts.own.has(row.id)) return false;
  if (row.owner_machine === machineId() && row.owner_pid !== null) {
    const info = procInfo(row.owner_pid);
    if (!info) return !isRunning(row.owner_pid);
    if (info.state === 'Z') return true;
    return row.owner_start !== null && info.start !== row.owner_start;
  }
  const last = Date.parse(row.heartbeat_at ?? row.created_at);
  return !Number.isFinite(last) || (opts.now ?? Date.now()) - last > opts.staleMs;
}

/** Reaps every orphaned run; returns their ids. Then frees pool slots of runs no longer active. */
export function reapOrphans(db: Database, opts: ReapOptions): string[] {
  const rows = db
    .prepare(`SELECT id, owner_pid, owner_start, owner_machine, heartbeat_at, created_at FROM runs WHERE status IN ('queued', 'started')`)
    .all() as OwnerRow[];
  const reaped: string[] = [];
  for (const row of rows) {
    if (isOrphaned(row, opts) && reapRun(db, opts.home, row, opts.graceMs)) reaped.push(row.id);
  }
  freeInactivePoolSlots(db);
  sweepLedgers(db, opts.home);
  sweepCgroups(db);
  return reaped;
}

/**
 * Removes step cgroups left empty by finished runs of this store (a removal that failed
 * while a process was dying). Only empty ones: a cgroup that still holds processes, or
 * belongs to a run this store does not know, is never touched here.
 */
export function sweepCgroups(db: Database): void {
  const finished = db.prepare(`SELECT 1 FROM runs WHERE id = ? AND status NOT IN ('queued', 'started')`);
  for (const c of stepCgroups()) if (finished.get(c.runId)) removeCgroup(c.dir);
  removeStaleOwnCgroups();
}

/** Deletes process ledgers left by runs that are no longer unfinished (or no longer exist). */
export function sweepLedgers(db: Database, home: string): void {
  let files: string[];
  try {
    files = fs.readdirSync(path.join(home, 'procs'));
  } catch {
    return;
  }
  const active = db.prepare(`SELECT 1 FROM runs WHERE id = ? AND status IN ('queued', 'started')`);
  for (const f of files) {
    if (!f.endsWith('.pids')) continue;
    const id = f.slice(0, -'.pids'.length);
    if (!active.get(id)) removeLedger(home, id);
  }
}

/**
 * Marks one orphaned run failed and terminates its verified children. Returns false when
 * another process reaped (or the owner finished) it first.
 */
export function reapRun(db: Database, home: string, row: OwnerRow, graceMs: number): boolean {
  const now = new Date().toISOString();
  const marked = db
    .transaction(() => {
      const changed = db
        .prepare(`UPDATE runs SET status = 'failure', error = ?, ended_at = ? WHERE id = ? AND status IN ('queued', 'started') AND NOT ${HANDED_OVER}`)
        .run(RUNNER_EXITED, now, row.id).changes;
      if (changed === 0) return false;
      const event = db.prepare(`INSERT INTO events (run_id, ts, type, key, status, message) VALUES (?, ?, ?, ?, ?, ?)`);
      const running = db.prepare(`SELECT key FROM steps WHERE run_id = ? AND status = 'running' ORDER BY position`).all(row.id) as Array<{ key: string }>;
      const pending = db.prepare(`SELECT key FROM steps WHERE run_id = ? AND status = 'pending' ORDER BY position`).all(row.id) as Array<{ key: string }>;
      db.prepare(`UPDATE steps SET status = 'failure', error = ?, ended_at = ? WHERE run_id = ? AND status = 'running'`).run(RUNNER_EXITED, now, row.id);
      db.prepare(`UPDATE steps SET status = 'canceled', error = ?, ended_at = ? WHERE run_id = ? AND status = 'pending'`).run(RUNNER_EXITED, now, row.id);
      for (const s of running) event.run(row.id, now, 'step_failed', s.key, 'failure', RUNNER_EXITED);
      for (const s of pending) event.run(row.id, now, 'step_canceled', s.key, 'canceled', RUNNER_EXITED);
      event.run(row.id, now, 'run_finished', null, 'failure', RUNNER_EXITED);
      db.prepare('DELETE FROM pool_slots WHERE run_id = ?').run(row.id);
      return true;
    })
    .immediate();
  if (!marked) return false;
  // Another machine's pids mean nothing here: never signal them.
  if (row.owner_machine === machineId()) {
    const ledger = readRunLedger(home, row.id);
    const targets = verifiedTargets(ledger.processes);
    // Those its ledger names, and those under this runner's cgroup by name (a ledger line may be lost).
    const cgroups = [...new Set([...ledger.cgroups, ...runCgroupsByName(row.id)])];
    // Also what left the recorded groups (setsid, double fork) or was never recorded: in the run's cgroups, or marked with its id.
    const since = row.owner_start !== null && /^[0-9]+$/.test(row.owner_start) ? Number(row.owner_start) : undefined;
    const known = new Set(targets.map((t) => t.pid));
    for (const pid of runProcesses(row.id, cgroups, since)) if (!known.has(pid)) targets.push({ pid, group: false });
    terminate(targets, graceMs);
    clearCgroups(cgroups);
  }
  removeLedger(home, row.id);
  return true;
}

/** The recorded processes that are still the ones recorded: alive, with the same start time. */
export function verifiedTargets(procs: LedgerEntry[]): KillTarget[] {
  const out: KillTarget[] = [];
  for (const p of procs) {
    if (p.start === null) continue;
    const info = procInfo(p.pid);
    if (!info || info.start !== p.start) continue;
    out.push({ pid: p.pid, group: info.pgrp === p.pid });
  }
  return out;
}

/** Frees pool slots held by runs that are not queued or started (finished, reaped, deleted). */
export function freeInactivePoolSlots(db: Database): number {
  return db.prepare(`DELETE FROM pool_slots WHERE run_id NOT IN (SELECT id FROM runs WHERE status IN ('queued', 'started'))`).run().changes;
}
