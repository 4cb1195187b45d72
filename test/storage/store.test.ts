import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { StoreError } from '../../src/storage/database.js';
import { ledgerPath, readLedger } from '../../src/storage/ledger.js';
import { processStartTime } from '../../src/storage/proc.js';
import { ev, meta, tempDir } from './helpers.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const stores: Store[] = [];
function open(home: string): Store {
  const s = Store.open(home);
  stores.push(s);
  return s;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

describe('Store: one unfinished retry per run', () => {
  it('refuses a second retry of a run while the first is unfinished, in the same transaction as the insert', () => {
    const s = open(tempDir());
    const failed = meta(['a']);
    s.createRun(failed);
    const retry = meta(['a'], { trigger: { type: 'retry', retry_of: failed.id } });
    s.createRun(retry);
    expect(s.unfinishedRetryOf(failed.id)).toBe(retry.id);
    const second = meta(['a'], { trigger: { type: 'retry', retry_of: failed.id } });
    expect(() => s.createRun(second)).toThrow(`run ${failed.id} is already being retried by run ${retry.id}, which has not finished`);
    expect(s.getRun(second.id)).toBeUndefined();
    s.db.prepare(`UPDATE runs SET status = 'failure' WHERE id = ?`).run(retry.id);
    expect(s.unfinishedRetryOf(failed.id)).toBeUndefined();
    s.createRun(second);
    expect(s.getRun(second.id)?.status).toBe('queued');
  });
});

describe('Store: events to rows', () => {
  it('records a new run as queued with one pending step per key, in plan order', () => {
    const home = tempDir();
    const s = open(home);
    const m = meta(['b/one', 'a/two', 'c'], { job: 'nightly', selection: 'group:x', env: 'qa' });
    s.createRun(m);
    const run = s.getRun(m.id)!;
    expect(run.status).toBe('queued');
    expect(run.job).toBe('nightly');
    expect(run.env).toBe('qa');
    expect(run.selection).toBe('group:x');
    expect(run.started_at).toBeNull();
    expect(run.steps.map((x) => [x.key, x.status, x.attempts])).toEqual([
      ['b/one', 'pending', 0],
      ['a/two', 'pending', 0],
      ['c', 'pending', 0],
    ]);
    expect(run.steps[0]!.log).toBe(path.join(home, 'logs', m.id, 'b__one.log'));
    expect(s.logPath(m.id, 'x/y/z')).toBe(path.join(home, 'logs', m.id, 'x__y__z.log'));
    expect(s.db.prepare('SELECT pipelines_dir, owner_pid FROM runs WHERE id = ?').get(m.id)).toEqual({ pipelines_dir: m.pipelinesDir, owner_pid: process.pid });
  });

  it("keeps a partial success's warning texts beside a handler's own warnings count", () => {
    const s = open(tempDir());
    const m = meta(['om']);
    s.createRun(m);
    s.emit(ev('run_started', m.id, { status: 'started' }));
    s.emit(ev('step_started', m.id, { key: 'om', attempt: 1, status: 'running' }));
    const texts = ['Workflow finished with failures (partial success: workflow 99.5%, above the success threshold)', 'Trino: 1 error (success 98.99%)'];
    s.emit(ev('step_succeeded', m.id, { key: 'om', attempt: 1, status: 'success', data: { exit_code: 0, metadata: { warnings: 0, errors: 1 }, warnings: texts } }));
    expect(s.getRun(m.id)!.steps[0]!.metadata).toEqual({ warnings: 0, errors: 1, warning_messages: texts });
    s.close();
  });

  it('follows a run through start, retries, success, failure, skip and cancel', () => {
    const s = open(tempDir());
    const m = meta(['ok', 'flaky', 'bad', 'after_bad', 'stopped']);
    s.createRun(m);
    const id = m.id;
    s.emit(ev('run_started', id, { status: 'started' }));
    s.emit(ev('step_started', id, { key: 'ok', attempt: 1, status: 'running' }));
    let run = s.getRun(id)!;
    expect(run.status).toBe('started');
    expect(run.started_at).toMatch(ISO);
    expect(run.steps[0]).toMatchObject({ status: 'running', attempts: 1, ended_at: null });
    s.emit(ev('step_succeeded', id, { key: 'ok', attempt: 1, status: 'success', data: { exit_code: 0, metadata: { records: 12 } } }));

    const flakyStart = ev('step_started', id, { key: 'flaky', attempt: 1 });
    s.emit(flakyStart);
    s.emit(ev('retry_scheduled', id, { key: 'flaky', attempt: 1, message: 'exit code 3; retrying in 1s', data: { exit_code: 3, delay_ms: 1000 } }));
    run = s.getRun(id)!;
    expect(run.steps[1]).toMatchObject({ status: 'running', attempts: 1, exit_code: 3, error: 'exit code 3; retrying in 1s' });
    s.emit(ev('step_started', id, { key: 'flaky', attempt: 2 }));
    s.emit(ev('step_succeeded', id, { key: 'flaky', attempt: 2, data: { exitCode: 0, warnings: ['2 tables skipped'] } }));

    s.emit(ev('step_started', id, { key: 'bad', attempt: 1 }));
    s.emit(ev('step_failed', id, { key: 'bad', attempt: 1, message: 'connection refused', data: { exit_code: 1, metadata: { errors: 1 } } }));
    s.emit(ev('step_skipped', id, { key: 'after_bad', message: 'upstream bad failed' }));
    s.emit(ev('step_canceled', id, { key: 'stopped', message: 'canceled' }));
    const fin = ev('run_finished', id, { status: 'failure', message: '1 step failed' });
    s.emit(fin);

    run = s.getRun(id)!;
    expect(run.status).toBe('failure');
    expect(run.ended_at).toBe(fin.ts);
    expect(run.error).toBe('1 step failed');
    const [ok, flaky, bad, skipped, canceled] = run.steps;
    expect(ok).toMatchObject({ status: 'success', attempts: 1, exit_code: 0, metadata: { records: 12 }, error: null });
    expect(ok!.ended_at).toMatch(ISO);
    expect(flaky).toMatchObject({ status: 'success', attempts: 2, exit_code: 0, error: null, metadata: { warnings: ['2 tables skipped'] } });
    // The step's start is its first attempt's.
    expect(flaky!.started_at).toBe(flakyStart.ts);
    expect(bad).toMatchObject({ status: 'failure', attempts: 1, exit_code: 1, error: 'connection refused', metadata: { errors: 1 } });
    expect(skipped).toMatchObject({ status: 'skipped', attempts: 0, started_at: null, error: 'upstream bad failed' });
    expect(canceled).toMatchObject({ status: 'canceled', error: 'canceled' });

    // Every event but log lines is kept, in order.
    expect(s.listEvents(id).map((e) => e.type)).toEqual([
      'run_started',
      'step_started',
      'step_succeeded',
      'step_started',
      'retry_scheduled',
      'step_started',
      'step_succeeded',
      'step_started',
      'step_failed',
      'step_skipped',
      'step_canceled',
      'run_finished',
    ]);
  });

  it('cancels steps a finished run left pending or running', () => {
    const s = open(tempDir());
    const m = meta(['a', 'b']);
    s.createRun(m);
    s.emit(ev('run_started', m.id));
    s.emit(ev('step_started', m.id, { key: 'a', attempt: 1 }));
    s.emit(ev('run_finished', m.id, { status: 'canceled' }));
    expect(s.getRun(m.id)!.steps.map((x) => x.status)).toEqual(['canceled', 'canceled']);
  });

  it('writes log lines to the step log file, not to the events table', () => {
    const home = tempDir();
    const s = open(home);
    const m = meta(['a/b']);
    s.createRun(m);
    s.emit(ev('run_started', m.id));
    s.emit(ev('step_started', m.id, { key: 'a/b', attempt: 1 }));
    s.emit(ev('log', m.id, { key: 'a/b', line: 'first', stream: 'stdout' }));
    s.emit(ev('log', m.id, { key: 'a/b', line: 'second: ünïcode ✓', stream: 'stderr' }));
    s.emit(ev('step_succeeded', m.id, { key: 'a/b', attempt: 1 }));
    s.emit(ev('run_finished', m.id, { status: 'success' }));
    expect(fs.readFileSync(path.join(home, 'logs', m.id, 'a__b.log'), 'utf8')).toBe('first\nsecond: ünïcode ✓\n');
    expect(s.listEvents(m.id).some((e) => e.type === 'log')).toBe(false);
  });

  it('stores a 10 MB single line and output without a trailing newline intact', () => {
    const home = tempDir();
    const s = open(home);
    const m = meta(['big', 'pieces']);
    s.createRun(m);
    s.emit(ev('run_started', m.id));
    const big = 'x'.repeat(5 * 1024 * 1024) + 'é'.repeat(2.5 * 1024 * 1024); // 10 MiB of UTF-8 in one line
    // As one event...
    s.emit(ev('log', m.id, { key: 'big', line: big }));
    s.emit(ev('log', m.id, { key: 'big', line: 'no newline at the end', partial: true }));
    // ...and as the executor hands on a long line: 64 Ki-character pieces, `partial` but the last.
    const piece = 64 * 1024;
    for (let i = 0; i < big.length; i += piece) s.emit(ev('log', m.id, { key: 'pieces', line: big.slice(i, i + piece), partial: i + piece < big.length }));
    s.emit(ev('log', m.id, { key: 'pieces', line: 'end without newline', partial: true }));
    s.emit(ev('run_finished', m.id, { status: 'success' }));
    const bytes = fs.readFileSync(s.logPath(m.id, 'big'));
    expect(bytes.length).toBe(Buffer.byteLength(big) + 1 + 'no newline at the end'.length);
    expect(bytes.toString('utf8') === big + '\nno newline at the end').toBe(true);
    expect(fs.readFileSync(s.logPath(m.id, 'pieces'), 'utf8') === big + '\nend without newline').toBe(true);
  });

  it('continues a partial line with the same stream, and starts the other stream on a new line', () => {
    const s = open(tempDir());
    const m = meta(['k']);
    s.createRun(m);
    s.emit(ev('log', m.id, { key: 'k', line: 'aaa', stream: 'stdout', partial: true }));
    s.emit(ev('log', m.id, { key: 'k', line: 'bbb', stream: 'stdout', partial: true }));
    s.emit(ev('log', m.id, { key: 'k', line: 'ccc', stream: 'stdout' }));
    s.emit(ev('log', m.id, { key: 'k', line: 'partial', stream: 'stdout', partial: true }));
    s.emit(ev('log', m.id, { key: 'k', line: 'from stderr', stream: 'stderr' }));
    s.emit(ev('run_finished', m.id, { status: 'success' }));
    expect(fs.readFileSync(s.logPath(m.id, 'k'), 'utf8')).toBe('aaabbbccc\npartial\nfrom stderr\n');
  });
});

describe('Store: batched writes', () => {
  it('batches progress events into one flush, and commits a step end at once with what came before it', () => {
    const home = tempDir();
    const s = Store.open(home, { flushMs: 60_000 });
    stores.push(s);
    const keys = Array.from({ length: 1000 }, (_, i) => `bulk/${i}`);
    const m = meta(keys);
    s.createRun(m);
    s.emit(ev('run_started', m.id));
    for (const key of keys) s.emit(ev('step_started', m.id, { key, attempt: 1 }));
    const reader = new Database(path.join(home, 'runner.db'), { readonly: true });
    try {
      const count = (status: string): number => (reader.prepare(`SELECT COUNT(*) AS n FROM steps WHERE run_id = ? AND status = ?`).get(m.id, status) as { n: number }).n;
      const events = (): number => (reader.prepare('SELECT COUNT(*) AS n FROM events WHERE run_id = ?').get(m.id) as { n: number }).n;
      // Starts are progress: queued, not yet visible to another connection.
      expect(count('running')).toBe(0);
      expect(events()).toBe(0);
      s.emit(ev('step_succeeded', m.id, { key: keys[0], attempt: 1, data: { exit_code: 0 } }));
      // A step end is durable when emit returns, and so is everything queued before it.
      expect(count('success')).toBe(1);
      expect(count('running')).toBe(999);
      expect(events()).toBe(1002);
      for (const key of keys.slice(1)) s.emit(ev('step_failed', m.id, { key, attempt: 1, message: 'x' }));
      expect(count('failure')).toBe(999);
      expect(events()).toBe(2001);
    } finally {
      reader.close();
    }
  });

  it('flushes on its own timer without an explicit flush', async () => {
    const home = tempDir();
    const s = open(home);
    const m = meta(['a']);
    s.createRun(m);
    s.emit(ev('run_started', m.id));
    const reader = new Database(path.join(home, 'runner.db'), { readonly: true });
    try {
      const status = (): string => (reader.prepare('SELECT status FROM runs WHERE id = ?').get(m.id) as { status: string }).status;
      await expect.poll(status, { timeout: 5000, interval: 10 }).toBe('started');
    } finally {
      reader.close();
    }
  });

  it('flushes at run_finished, so a finished run is on disk at once', () => {
    const home = tempDir();
    const s = Store.open(home, { flushMs: 60_000 });
    stores.push(s);
    const m = meta(['a']);
    s.createRun(m);
    s.emit(ev('run_started', m.id));
    s.emit(ev('run_finished', m.id, { status: 'success' }));
    const reader = new Database(path.join(home, 'runner.db'), { readonly: true });
    try {
      expect((reader.prepare('SELECT status FROM runs WHERE id = ?').get(m.id) as { status: string }).status).toBe('success');
    } finally {
      reader.close();
    }
  });

  it('is usable again after close (an executor may close its sinks)', () => {
    const home = tempDir();
    const s = open(home);
    const m = meta(['a']);
    s.createRun(m);
    s.emit(ev('run_finished', m.id, { status: 'success' }));
    s.close();
    s.setAlert(m.id, { status: 'sent', at: '2024-05-01T12:00:00.000Z' });
    expect(s.getRun(m.id)!.alert).toEqual({ status: 'sent', at: '2024-05-01T12:00:00.000Z' });
  });
});

describe('Store: reading runs back', () => {
  it('prints the JSON shape of DESIGN.md exactly', () => {
    const s = open(tempDir());
    const m = meta(['a'], { trigger: { type: 'schedule', schedule: 'nightly', tick: '2024-05-01T02:00:00.000Z' } });
    s.createRun(m);
    s.emit(ev('run_started', m.id));
    s.emit(ev('step_started', m.id, { key: 'a', attempt: 1 }));
    s.emit(ev('step_succeeded', m.id, { key: 'a', attempt: 1, data: { exit_code: 0 } }));
    s.emit(ev('run_finished', m.id, { status: 'success' }));
    const json = JSON.parse(JSON.stringify(s.getRun(m.id))) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['id', 'status', 'trigger', 'retry_of', 'env', 'selection', 'job', 'started_at', 'ended_at', 'error', 'alert', 'steps']);
    expect(json['trigger']).toEqual({ type: 'schedule', schedule: 'nightly', tick: '2024-05-01T02:00:00.000Z' });
    expect(json['retry_of']).toBeNull();
    const step = (json['steps'] as Array<Record<string, unknown>>)[0]!;
    expect(Object.keys(step)).toEqual(['key', 'status', 'attempts', 'started_at', 'ended_at', 'exit_code', 'metadata', 'error', 'log']);
    expect(json['started_at']).toMatch(ISO);
    expect(step['ended_at']).toMatch(ISO);
  });

  it('records the run a retry re-executes in its trigger and in retry_of', () => {
    const s = open(tempDir());
    const first = meta(['a', 'b']);
    s.createRun(first);
    const again = meta(['b'], { trigger: { type: 'retry', retry_of: first.id } });
    s.createRun(again);
    expect(s.getRun(again.id)).toMatchObject({ trigger: { type: 'retry', retry_of: first.id }, retry_of: first.id });
    expect(s.getRun(first.id)!.retry_of).toBeNull();
    expect(s.listRuns().map((r) => r.retry_of)).toEqual([first.id, null]);
  });

  it('finds a run by a unique id prefix and reports unknown and ambiguous ones as values', () => {
    const s = open(tempDir());
    const a = meta(['x'], { id: 'aaaa1111-0000-4000-8000-000000000000' });
    const b = meta(['x'], { id: 'aaaa2222-0000-4000-8000-000000000000' });
    s.createRun(a);
    s.createRun(b);
    expect(s.getRun('aaaa1')!.id).toBe(a.id);
    expect(s.getRun('AAAA2222')!.id).toBe(b.id);
    expect(s.getRun('aaaa')).toBeUndefined();
    const amb = s.findRun('aaaa');
    expect(amb.ok).toBe(false);
    if (!amb.ok) {
      expect(amb.diagnostics[0]!.message).toMatch(/ambiguous/);
      expect(amb.diagnostics[0]!.detail!.join('\n')).toContain(a.id);
    }
    const unknown = s.findRun('ffff');
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.diagnostics[0]!.message).toMatch(/no run has id `ffff`/);
  });

  it('lists runs newest first, by status and up to a limit', () => {
    const s = open(tempDir());
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = meta(['a']);
      ids.push(m.id);
      s.createRun(m);
      s.emit(ev('run_started', m.id));
      s.emit(ev('run_finished', m.id, { status: i % 2 === 0 ? 'success' : 'failure' }));
    }
    expect(s.listRuns({}).map((r) => r.id)).toEqual([...ids].reverse());
    expect(s.listRuns({ limit: 2 }).map((r) => r.id)).toEqual([ids[4], ids[3]]);
    expect(s.listRuns({ status: 'failure' }).map((r) => r.id)).toEqual([ids[3], ids[1]]);
    expect(s.listRuns({}).every((r) => r.steps.length === 1)).toBe(true);
  });

  it("gives each asset's latest finished step status", () => {
    const s = open(tempDir());
    const r1 = meta(['a', 'b', 'c']);
    s.createRun(r1);
    s.emit(ev('step_failed', r1.id, { key: 'a', message: 'x' }));
    s.emit(ev('step_succeeded', r1.id, { key: 'b' }));
    s.emit(ev('step_skipped', r1.id, { key: 'c', message: 'upstream a failed' }));
    s.emit(ev('run_finished', r1.id, { status: 'failure' }));
    const r2 = meta(['a', 'b']);
    s.createRun(r2);
    s.emit(ev('run_started', r2.id));
    s.emit(ev('step_succeeded', r2.id, { key: 'a' }));
    s.emit(ev('step_started', r2.id, { key: 'b', attempt: 1 })); // still running: not an outcome
    expect(Object.fromEntries(s.lastStepStatuses())).toEqual({ a: 'success', b: 'success', c: 'skipped' });
  });

  it('records whether the alert went out', () => {
    const s = open(tempDir());
    const m = meta(['a']);
    s.createRun(m);
    expect(s.getRun(m.id)!.alert).toBeNull();
    s.setAlert(m.id, { status: 'failed', detail: 'HTTP 500', at: '2024-05-01T12:00:00.000Z' });
    expect(s.getRun(m.id)!.alert).toEqual({ status: 'failed', detail: 'HTTP 500', at: '2024-05-01T12:00:00.000Z' });
  });
});

describe('Store: process ledger', () => {
  it('records child processes at once, forgets ended ones, and drops the ledger when the run finishes', () => {
    const home = tempDir();
    const s = open(home);
    const m = meta(['a', 'b']);
    s.createRun(m);
    s.recordProcess(m.id, 'a', process.pid);
    s.recordProcess(m.id, 'b', process.ppid);
    // On disk without any flush: a runner killed now still leaves them recorded.
    expect(readLedger(home, m.id)).toEqual([
      { pid: process.pid, start: processStartTime(process.pid), key: 'a' },
      { pid: process.ppid, start: processStartTime(process.ppid), key: 'b' },
    ]);
    s.forgetProcess(m.id, 'a', process.pid);
    expect(readLedger(home, m.id).map((e) => e.key)).toEqual(['b']);
    s.emit(ev('run_finished', m.id, { status: 'success' }));
    expect(fs.existsSync(ledgerPath(home, m.id))).toBe(false);
  });
});

describe('Store: pools and schema', () => {
  it('limits a pool across stores of one RUNNER_HOME and gives slots back', () => {
    const home = tempDir();
    const s1 = open(home);
    const s2 = open(home);
    const r1 = meta(['a', 'b']);
    const r2 = meta(['c']);
    s1.createRun(r1);
    s2.createRun(r2);
    expect(s1.acquirePoolSlot('cli', 2, r1.id, 'a')).toBe(true);
    expect(s1.acquirePoolSlot('cli', 2, r1.id, 'a')).toBe(true); // already held
    expect(s2.acquirePoolSlot('cli', 2, r2.id, 'c')).toBe(true);
    expect(s1.acquirePoolSlot('cli', 2, r1.id, 'b')).toBe(false);
    expect(s1.acquirePoolSlot('other', 1, r1.id, 'b')).toBe(true);
    s2.releasePoolSlot('cli', r2.id, 'c');
    expect(s1.acquirePoolSlot('cli', 2, r1.id, 'b')).toBe(true);
    // A finished run gives its slots back.
    s1.emit(ev('run_finished', r1.id, { status: 'success' }));
    expect(s2.acquirePoolSlot('cli', 1, r2.id, 'c')).toBe(true);
  });

  it('creates the scheduler tables and refuses a store from a newer runner', () => {
    const home = tempDir();
    const s = open(home);
    const tables = (s.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['runs', 'steps', 'events', 'pool_slots', 'schedule_state', 'ticks', 'watcher_state', 'watcher_alerts']));
    s.db.prepare(`INSERT INTO ticks (schedule, tick_time, outcome, created_at) VALUES ('s', 't', 'started', 'now')`).run();
    expect(() => s.db.prepare(`INSERT INTO ticks (schedule, tick_time, outcome, created_at) VALUES ('s', 't', 'started', 'now')`).run()).toThrow(/UNIQUE/);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    s.db.pragma('user_version = 99');
    s.close();
    expect(() => Store.open(home)).toThrow(StoreError);
    expect(() => Store.open(home)).toThrow(/newer than this runner/);
  });
});
