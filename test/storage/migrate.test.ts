import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { MIGRATIONS, SCHEMA_VERSION, migrate, schemaVersion } from '../../src/storage/schema.js';
import { RUNNER_EXITED } from '../../src/storage/reaper.js';
import { tempDir } from './helpers.js';

const DONE = '11111111-1111-4111-8111-111111111111';
const LEFT = '22222222-2222-4222-8222-222222222222';

/** A store as the first release wrote it: migration 1 only, with a finished run and one left started. */
function v1Store(home: string): void {
  const db = new Database(path.join(home, 'runner.db'));
  db.pragma('journal_mode = WAL');
  expect(migrate(db, 1)).toBe(1);
  const run = db.prepare(
    `INSERT INTO runs (id, status, trigger, env, selection, job, created_at, started_at, ended_at, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const step = db.prepare(
    `INSERT INTO steps (run_id, key, position, status, attempts, started_at, ended_at, exit_code, metadata, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  run.run(
    DONE,
    'failure',
    '{"type":"schedule","schedule":"nightly","tick":"2024-01-01T02:00:00.000Z"}',
    'production',
    'job:nightly',
    'nightly',
    '2024-01-01T02:00:00.000Z',
    '2024-01-01T02:00:01.000Z',
    '2024-01-01T02:10:00.000Z',
    null,
  );
  step.run(DONE, 'a/b', 0, 'success', 1, '2024-01-01T02:00:01.000Z', '2024-01-01T02:05:00.000Z', 0, '{"records":42}', null);
  step.run(DONE, 'a/c', 1, 'failure', 3, '2024-01-01T02:05:00.000Z', '2024-01-01T02:10:00.000Z', 1, null, 'timed out after 5m');
  db.prepare(`INSERT INTO events (run_id, ts, type, key, status) VALUES (?, ?, 'step_failed', 'a/c', 'failure')`).run(DONE, '2024-01-01T02:10:00.000Z');
  // A v1 runner recorded no owner: a run it left started long ago is judged by its age.
  run.run(LEFT, 'started', '{"type":"manual"}', 'dev', '*', null, '2024-01-02T00:00:00.000Z', '2024-01-02T00:00:00.000Z', null, null);
  step.run(LEFT, 'x', 0, 'running', 1, '2024-01-02T00:00:00.000Z', null, null, null, null);
  db.close();
}

describe('store migrations', () => {
  it('upgrades a version 1 store, keeping its runs', () => {
    const home = tempDir();
    v1Store(home);
    const store = Store.open(home);
    try {
      expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
      const run = store.getRun(DONE)!;
      expect(run).toMatchObject({
        status: 'failure',
        trigger: { type: 'schedule', schedule: 'nightly', tick: '2024-01-01T02:00:00.000Z' },
        env: 'production',
        job: 'nightly',
        alert: null,
      });
      expect(run.steps).toMatchObject([
        { key: 'a/b', status: 'success', attempts: 1, exit_code: 0, metadata: { records: 42 } },
        { key: 'a/c', status: 'failure', attempts: 3, exit_code: 1, error: 'timed out after 5m' },
      ]);
      expect(store.listEvents(DONE)).toHaveLength(1);
      // New columns and tables work on old rows.
      store.setAlert(DONE, { status: 'sent', at: '2024-01-01T02:10:01.000Z' });
      expect(store.getRun(DONE)!.alert).toEqual({ status: 'sent', at: '2024-01-01T02:10:01.000Z' });
      const tables = (store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((t) => t.name);
      expect(tables).toEqual(expect.arrayContaining(['pool_slots', 'schedule_state', 'ticks', 'watcher_state', 'watcher_alerts']));
      // The run the old runner left started is reaped like any orphan.
      expect(store.reaped).toEqual([LEFT]);
      expect(store.getRun(LEFT)).toMatchObject({ status: 'failure', error: RUNNER_EXITED, steps: [{ status: 'failure', error: RUNNER_EXITED }] });
    } finally {
      store.close();
    }
  });

  it('applies each migration once, however often the store is opened', () => {
    const home = tempDir();
    v1Store(home);
    for (let i = 0; i < 3; i++) Store.open(home).close();
    const db = new Database(path.join(home, 'runner.db'));
    try {
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      expect(migrate(db)).toBe(SCHEMA_VERSION);
      expect((db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n).toBe(2);
    } finally {
      db.close();
    }
  });
});
