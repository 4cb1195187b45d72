/**
 * Retention: finished runs older than `runner.retention.runs` (default 90 days) are
 * deleted with their rows in every table keyed by run (steps, events, pool slots, ...) and
 * their log directory; ticks older than the cutoff go too, except each schedule's latest
 * (serve's catch-up starts from it). `runner serve` runs this once a day, `runner gc` on demand.
 * Runs still queued or started are never touched, however old.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { runLogDir } from '../storage/logs.js';

/** What a collection removed (or, in a dry run, would remove). */
export interface GcResult {
  /** Runs finished before this time are old (ISO 8601). */
  cutoff: string;
  /** Ids of the runs removed, oldest first. */
  runIds: string[];
  steps: number;
  events: number;
  /** Log directories removed (of removed runs, and stray ones of runs the store no longer has). */
  logDirs: number;
  /** Bytes of log files removed. */
  logBytes: number;
  ticks: number;
  dryRun: boolean;
}

/** Options of a collection. */
export interface GcOptions {
  db: Database;
  /** RUNNER_HOME (logs are under `<home>/logs`). */
  home: string;
  /** Age beyond which finished runs go, in ms. */
  retentionMs: number;
  now?: Date;
  dryRun?: boolean;
}

const BATCH = 500;

function dirSize(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    try {
      total += e.isDirectory() ? dirSize(p) : fs.statSync(p).size;
    } catch {
      // vanished meanwhile
    }
  }
  return total;
}

/** Deletes (or counts, with `dryRun`) what retention says is too old. */
export function collectGarbage(opts: GcOptions): GcResult {
  const { db, home } = opts;
  const now = opts.now ?? new Date();
  const cutoff = new Date(now.getTime() - opts.retentionMs).toISOString();
  const dryRun = opts.dryRun ?? false;
  const old = db
    .prepare(
      `SELECT id FROM runs WHERE status IN ('success', 'failure', 'canceled') AND COALESCE(ended_at, started_at, created_at) < ? ORDER BY created_at, id`,
    )
    .all(cutoff) as Array<{ id: string }>;
  const runIds = old.map((r) => r.id);
  const result: GcResult = { cutoff, runIds, steps: 0, events: 0, logDirs: 0, logBytes: 0, ticks: 0, dryRun };

  const countSteps = db.prepare('SELECT COUNT(*) AS n FROM steps WHERE run_id = ?');
  const countEvents = db.prepare('SELECT COUNT(*) AS n FROM events WHERE run_id = ?');
  // Every table keyed by run (events, steps, pool slots, ... whatever the schema has now), then the run.
  const perRun = (db.prepare("SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = 'run_id'").all() as Array<{ name: string }>)
    .map((t) => t.name)
    // ticks have their own rule below; watcher_alerts' run_id is another system's.
    .filter((t) => t !== 'ticks' && !t.startsWith('watcher_'));
  const deletes = perRun.map((t) => db.prepare(`DELETE FROM "${t}" WHERE run_id = ?`));
  const deleteRun = db.prepare('DELETE FROM runs WHERE id = ?');
  // Batches keep each write lock short: a run's events may be many.
  for (let i = 0; i < runIds.length; i += BATCH) {
    const batch = runIds.slice(i, i + BATCH);
    const apply = (): void => {
      for (const id of batch) {
        result.steps += (countSteps.get(id) as { n: number }).n;
        result.events += (countEvents.get(id) as { n: number }).n;
        if (dryRun) continue;
        for (const d of deletes) d.run(id);
        deleteRun.run(id);
      }
    };
    if (dryRun) apply();
    else db.transaction(apply).immediate();
    for (const id of batch) {
      const dir = runLogDir(home, id);
      if (!fs.existsSync(dir)) continue;
      result.logDirs++;
      result.logBytes += dirSize(dir);
      if (!dryRun) fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  // Log directories of runs the store no longer has (e.g. a store deleted by hand), once old.
  const logsRoot = path.join(home, 'logs');
  let dirs: string[] = [];
  try {
    dirs = fs.readdirSync(logsRoot);
  } catch {
    // no logs yet
  }
  const exists = db.prepare('SELECT 1 FROM runs WHERE id = ?');
  const removed = new Set(runIds);
  for (const name of dirs) {
    if (removed.has(name) || exists.get(name)) continue;
    const dir = path.join(logsRoot, name);
    try {
      if (fs.statSync(dir).mtime.toISOString() >= cutoff) continue;
    } catch {
      continue;
    }
    result.logDirs++;
    result.logBytes += dirSize(dir);
    if (!dryRun) fs.rmSync(dir, { recursive: true, force: true });
  }

  const tickWhere = `tick_time < ? AND outcome != 'queued' AND tick_time < (SELECT MAX(t2.tick_time) FROM ticks t2 WHERE t2.schedule = ticks.schedule)`;
  if (dryRun) result.ticks = (db.prepare(`SELECT COUNT(*) AS n FROM ticks WHERE ${tickWhere}`).get(cutoff) as { n: number }).n;
  else result.ticks = db.prepare(`DELETE FROM ticks WHERE ${tickWhere}`).run(cutoff).changes;
  return result;
}

/** A short report of a collection, for `runner gc` and serve's log. */
export function formatGcResult(r: GcResult, retention: string): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const mb = (r.logBytes / (1024 * 1024)).toFixed(1);
  const lines = [
    `${verb} ${r.runIds.length} run${r.runIds.length === 1 ? '' : 's'} finished before ${r.cutoff} (retention ${retention}), ` +
      `${r.steps} steps, ${r.events} events, ${r.logDirs} log director${r.logDirs === 1 ? 'y' : 'ies'} (${mb} MB), ${r.ticks} tick${r.ticks === 1 ? '' : 's'}`,
  ];
  for (const id of r.runIds) lines.push(`  ${id}`);
  return lines.join('\n') + '\n';
}

/** A retention as written in the pipeline files: `90d`, `12h`, `30m`, `45s`. */
export function formatRetention(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
