import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { collectGarbage, formatGcResult, formatRetention } from '../../src/serve/retention.js';
import { tempDir } from '../schedule/helpers.js';
import { runCli } from './proc.js';

const DAY = 86_400_000;
const NOW = new Date('2024-06-01T00:00:00Z');
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

let root: string;
let home: string;
let store: Store;

beforeEach(() => {
  root = tempDir('runner-gc-');
  home = path.join(root, 'home');
  store = Store.open(home);
});
afterEach(() => {
  store.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** A run with one step, one event and a log file, ended `days` ago (status `status`). */
function seedRun(id: string, days: number, status: string): string {
  store.createRun({ id, trigger: { type: 'manual' }, env: 'dev', selection: 'demo/a', keys: ['demo/a'], pipelinesDir: root });
  const at = ago(days);
  const finished = status !== 'started';
  store.db.prepare('UPDATE runs SET status = ?, created_at = ?, started_at = ?, ended_at = ? WHERE id = ?').run(status, at, at, finished ? at : null, id);
  store.db.prepare("INSERT INTO events (run_id, ts, type) VALUES (?, ?, 'run_started')").run(id, at);
  const log = store.logPath(id, 'demo/a');
  fs.mkdirSync(path.dirname(log), { recursive: true });
  fs.writeFileSync(log, 'some output\n');
  return log;
}

function seedTick(schedule: string, days: number): void {
  store.db.prepare("INSERT INTO ticks (schedule, tick_time, outcome, created_at) VALUES (?, ?, 'skipped', ?)").run(schedule, ago(days), ago(days));
}

describe('retention', () => {
  it('deletes finished runs older than the retention with their steps, events and logs, and nothing else', () => {
    const oldLog = seedRun('old-finished', 100, 'failure');
    const runningLog = seedRun('old-but-running', 100, 'started');
    const recentLog = seedRun('recent', 10, 'success');
    // A log directory whose run the store no longer has.
    const stray = path.join(home, 'logs', 'stray-run');
    fs.mkdirSync(stray, { recursive: true });
    fs.writeFileSync(path.join(stray, 'x.log'), 'x');
    fs.utimesSync(stray, new Date(ago(200)), new Date(ago(200)));
    seedTick('nightly', 120);
    seedTick('nightly', 95);
    seedTick('nightly', 1);
    seedTick('lonely', 300); // a schedule's latest tick stays: catch-up starts from it

    const dry = collectGarbage({ db: store.db, home, retentionMs: 90 * DAY, now: NOW, dryRun: true });
    expect(dry).toMatchObject({ runIds: ['old-finished'], steps: 1, events: 1, logDirs: 2, ticks: 2, dryRun: true });
    expect(fs.existsSync(oldLog)).toBe(true);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM runs').get()).toEqual({ n: 3 });

    const r = collectGarbage({ db: store.db, home, retentionMs: 90 * DAY, now: NOW });
    expect(r).toMatchObject({ runIds: ['old-finished'], steps: 1, events: 1, logDirs: 2, ticks: 2, dryRun: false });
    expect(r.cutoff).toBe(ago(90));
    expect(fs.existsSync(path.dirname(oldLog))).toBe(false);
    expect(fs.existsSync(stray)).toBe(false);
    expect(fs.existsSync(runningLog)).toBe(true);
    expect(fs.existsSync(recentLog)).toBe(true);
    const runs = store.db.prepare('SELECT id FROM runs ORDER BY id').all();
    expect(runs).toEqual([{ id: 'old-but-running' }, { id: 'recent' }]);
    expect(store.db.prepare("SELECT COUNT(*) AS n FROM steps WHERE run_id = 'old-finished'").get()).toEqual({ n: 0 });
    expect(store.db.prepare("SELECT COUNT(*) AS n FROM events WHERE run_id = 'old-finished'").get()).toEqual({ n: 0 });
    expect(store.db.prepare('SELECT schedule, tick_time FROM ticks ORDER BY tick_time').all()).toEqual([
      { schedule: 'lonely', tick_time: ago(300) },
      { schedule: 'nightly', tick_time: ago(1) },
    ]);
    expect(formatGcResult(r, '90d')).toContain('removed 1 run finished before 2024-03-03T00:00:00.000Z (retention 90d)');
    expect(formatGcResult(r, '90d')).toContain('  old-finished');
    // Idempotent.
    expect(collectGarbage({ db: store.db, home, retentionMs: 90 * DAY, now: NOW }).runIds).toEqual([]);
  });

  it('writes retentions as the pipeline files do', () => {
    expect(formatRetention(90 * DAY)).toBe('90d');
    expect(formatRetention(36 * 3_600_000)).toBe('36h');
    expect(formatRetention(1500)).toBe('1500ms');
  });

  it('runner gc says what it removes, and --dry-run removes nothing', async () => {
    fs.mkdirSync(path.join(root, 'pipelines'));
    fs.writeFileSync(
      path.join(root, 'pipelines', 'main.yaml'),
      'runner: {retention: {runs: 30d}}\nassets:\n  - key: demo/a\n    handler: command\n    config: {run: ["true"]}\n',
    );
    const realAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();
    store.createRun({ id: 'aaaa-old', trigger: { type: 'manual' }, env: 'dev', selection: 'demo/a', keys: ['demo/a'], pipelinesDir: root });
    store.db.prepare("UPDATE runs SET status = 'success', created_at = ?, ended_at = ? WHERE id = 'aaaa-old'").run(realAgo(40), realAgo(40));
    store.createRun({ id: 'bbbb-new', trigger: { type: 'manual' }, env: 'dev', selection: 'demo/a', keys: ['demo/a'], pipelinesDir: root });
    store.db.prepare("UPDATE runs SET status = 'success', ended_at = ? WHERE id = 'bbbb-new'").run(realAgo(1));
    store.close();

    const env = { RUNNER_HOME: home };
    const dry = await runCli(root, ['gc', '-p', 'pipelines', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^would remove 1 run finished before .* \(retention 30d\)/);
    expect(dry.stdout).toContain('aaaa-old');
    expect(fs.existsSync(path.join(home, 'logs', 'aaaa-old'))).toBe(true);

    const real = await runCli(root, ['gc', '-p', 'pipelines', '--json'], env);
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ run_ids: ['aaaa-old'], steps: 1, log_dirs: 1, dry_run: false });
    expect(fs.existsSync(path.join(home, 'logs', 'aaaa-old'))).toBe(false);
    expect(fs.existsSync(path.join(home, 'logs', 'bbbb-new'))).toBe(true);
  });
});
