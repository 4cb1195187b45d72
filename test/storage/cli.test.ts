import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { ev, meta, runCli, tempDir } from './helpers.js';

const savedHome = process.env['RUNNER_HOME'];
beforeAll(() => {
  delete process.env['RUNNER_HOME'];
});
afterAll(() => {
  if (savedHome !== undefined) process.env['RUNNER_HOME'] = savedHome;
});

/** A project with a store holding a failed run and a successful one. */
function project(): { dir: string; pipelines: string; home: string; failed: string; ok: string } {
  const dir = tempDir('runner-cli-');
  const home = path.join(dir, '.runner');
  const s = Store.open(home);
  const f = meta(['om/trino/metadata', 'om/trino/lineage', 'om/dbt/metadata'], { job: 'critical', selection: 'om/*' });
  s.createRun(f);
  s.emit(ev('run_started', f.id));
  s.emit(ev('step_started', f.id, { key: 'om/trino/metadata', attempt: 1 }));
  s.emit(ev('log', f.id, { key: 'om/trino/metadata', line: 'ingesting tables' }));
  s.emit(ev('log', f.id, { key: 'om/trino/metadata', line: 'Processed records: 12' }));
  s.emit(ev('step_succeeded', f.id, { key: 'om/trino/metadata', attempt: 1, data: { exit_code: 0, metadata: { records: 12 } } }));
  s.emit(ev('step_started', f.id, { key: 'om/dbt/metadata', attempt: 1 }));
  s.emit(ev('log', f.id, { key: 'om/dbt/metadata', line: 'manifest.json not found', stream: 'stderr' }));
  s.emit(ev('step_failed', f.id, { key: 'om/dbt/metadata', attempt: 2, message: 'manifest.json not found', data: { exit_code: 1 } }));
  s.emit(ev('step_skipped', f.id, { key: 'om/trino/lineage', message: 'upstream om/trino/metadata failed' }));
  s.emit(ev('run_finished', f.id, { status: 'failure' }));
  s.setAlert(f.id, { status: 'sent', at: '2024-05-01T12:30:00.000Z' });
  const o = meta(['a'], { selection: 'a' });
  s.createRun(o);
  s.emit(ev('run_started', o.id));
  s.emit(ev('step_started', o.id, { key: 'a', attempt: 1 }));
  s.emit(ev('step_succeeded', o.id, { key: 'a', attempt: 1, data: { exit_code: 0 } }));
  s.emit(ev('run_finished', o.id, { status: 'success' }));
  s.close();
  return { dir, pipelines: path.join(dir, 'pipelines'), home, failed: f.id, ok: o.id };
}

describe('runner runs', () => {
  it('prints a table of runs, newest first', async () => {
    const p = project();
    const r = await runCli(['runs', '-p', p.pipelines]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+TRIGGER\s+ENV\s+JOB \/ SELECTION\s+STARTED\s+DURATION\s+STEPS$/);
    expect(lines[1]).toContain(p.ok.slice(0, 8));
    expect(lines[1]).toMatch(/success\s+manual\s+dev\s+a\s/);
    expect(lines[2]).toContain(p.failed.slice(0, 8));
    expect(lines[2]).toMatch(/failure\s+manual\s+dev\s+critical\s/);
    expect(lines[2]).toContain('1 success, 1 failure, 1 skipped');
  });

  it('prints {"runs": [...]} with --json, filtered and limited', async () => {
    const p = project();
    const all = JSON.parse((await runCli(['runs', '-p', p.pipelines, '--json'])).stdout) as { runs: Array<{ id: string; steps: unknown[] }> };
    expect(all.runs.map((r) => r.id)).toEqual([p.ok, p.failed]);
    const failed = JSON.parse((await runCli(['runs', '-p', p.pipelines, '--json', '--status', 'failure'])).stdout) as { runs: Array<{ id: string }> };
    expect(failed.runs.map((r) => r.id)).toEqual([p.failed]);
    const one = JSON.parse((await runCli(['runs', '-p', p.pipelines, '--json', '--limit', '1'])).stdout) as { runs: Array<{ id: string }> };
    expect(one.runs.map((r) => r.id)).toEqual([p.ok]);
  });

  it('rejects a bad status or limit with exit 2', async () => {
    const p = project();
    const bad = await runCli(['runs', '-p', p.pipelines, '--status', 'failed']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Allowed choices are queued, started, success, failure, canceled/);
    const limit = await runCli(['runs', '-p', p.pipelines, '--limit', '0']);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--limit must be a positive whole number, not `0`');
  });

  it('says there are no runs, and creates nothing, when the project has no store', async () => {
    const dir = tempDir('runner-cli-');
    const r = await runCli(['runs', '-p', path.join(dir, 'pipelines')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^No runs recorded in .*\.runner\.\n$/);
    expect(fs.existsSync(path.join(dir, '.runner'))).toBe(false);
    expect(JSON.parse((await runCli(['runs', '-p', path.join(dir, 'pipelines'), '--json'])).stdout)).toEqual({ runs: [] });
  });

  it('uses RUNNER_HOME when set', async () => {
    const p = project();
    process.env['RUNNER_HOME'] = p.home;
    try {
      const r = await runCli(['runs', '--json', '-p', '/somewhere/else/pipelines']);
      expect((JSON.parse(r.stdout) as { runs: unknown[] }).runs).toHaveLength(2);
    } finally {
      delete process.env['RUNNER_HOME'];
    }
  });
});

describe('runner show', () => {
  it('shows steps, attempts, metadata, failures, the alert and log paths', async () => {
    const p = project();
    const r = await runCli(['show', p.failed.slice(0, 8), '-p', p.pipelines]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Run ${p.failed}  failure`);
    expect(r.stdout).toMatch(/job\s+critical/);
    expect(r.stdout).toMatch(/alert\s+sent at /);
    expect(r.stdout).toMatch(/success\s+om\/trino\/metadata\s+1 attempt\s+3\.0s\s+exit 0/);
    expect(r.stdout).toContain('records: 12');
    expect(r.stdout).toMatch(/failure\s+om\/dbt\/metadata\s+2 attempts\s+\S+\s+exit 1/);
    expect(r.stdout).toContain('error: manifest.json not found');
    expect(r.stdout).toContain('error: upstream om/trino/metadata failed');
    expect(r.stdout).toContain(`log: ${path.join(p.home, 'logs', p.failed, 'om__dbt__metadata.log')}`);
  });

  it('prints one run as JSON', async () => {
    const p = project();
    const run = JSON.parse((await runCli(['show', p.failed, '--json', '-p', p.pipelines])).stdout) as Record<string, unknown>;
    expect(run['id']).toBe(p.failed);
    expect(run['status']).toBe('failure');
    expect(run['alert']).toEqual({ status: 'sent', at: '2024-05-01T12:30:00.000Z' });
    expect((run['steps'] as Array<{ key: string }>).map((s) => s.key)).toEqual(['om/trino/metadata', 'om/trino/lineage', 'om/dbt/metadata']);
  });

  it('rejects an unknown run id with exit 2', async () => {
    const p = project();
    const r = await runCli(['show', 'deadbeef', '-p', p.pipelines]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no run has id `deadbeef`');
    const none = await runCli(['show', 'deadbeef', '-p', path.join(tempDir(), 'pipelines')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no runs are recorded/);
  });
});

describe('runner logs', () => {
  it("prints one step's log as written, or every step's lines prefixed by key", async () => {
    const p = project();
    const one = await runCli(['logs', p.failed, 'om/trino/metadata', '-p', p.pipelines]);
    expect(one).toMatchObject({ code: 0, stdout: 'ingesting tables\nProcessed records: 12\n' });
    const legacy = await runCli(['logs', p.failed, 'om__trino__metadata', '-p', p.pipelines]);
    expect(legacy.stdout).toBe(one.stdout);
    const all = await runCli(['logs', p.failed, '-p', p.pipelines]);
    expect(all.stdout).toBe('om/trino/metadata | ingesting tables\nom/trino/metadata | Processed records: 12\nom/dbt/metadata | manifest.json not found\n');
  });

  it('rejects an unknown key with a suggestion, exit 2', async () => {
    const p = project();
    const r = await runCli(['logs', p.failed, 'om/trino/metadta', '-p', p.pipelines]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("has no step `om/trino/metadta` (did you mean 'om/trino/metadata'");
  });

  it('prints a 10 MB line and a last line without newline intact', async () => {
    const dir = tempDir('runner-cli-');
    const s = Store.open(path.join(dir, '.runner'));
    const m = meta(['big']);
    s.createRun(m);
    const big = 'y'.repeat(10 * 1024 * 1024);
    s.emit(ev('log', m.id, { key: 'big', line: big }));
    s.emit(ev('log', m.id, { key: 'big', line: 'tail', partial: true }));
    s.emit(ev('run_finished', m.id, { status: 'success' }));
    s.close();
    const one = await runCli(['logs', m.id, 'big', '-p', path.join(dir, 'pipelines')]);
    expect(one.stdout.length).toBe(big.length + 5);
    expect(one.stdout === big + '\ntail').toBe(true);
    const all = await runCli(['logs', m.id, '-p', path.join(dir, 'pipelines')]);
    expect(all.stdout === `big | ${big}\nbig | tail\n`).toBe(true);
  });

  it('--follow prints lines written while it follows and exits when the run finishes', async () => {
    const dir = tempDir('runner-cli-');
    const s = Store.open(path.join(dir, '.runner'));
    const m = meta(['slow/step', 'other']);
    s.createRun(m);
    s.emit(ev('run_started', m.id));
    s.emit(ev('step_started', m.id, { key: 'slow/step', attempt: 1 }));
    s.emit(ev('log', m.id, { key: 'slow/step', line: 'before follow' }));
    s.flush();
    let seen = '';
    let finished = false;
    const following = runCli(['logs', m.id, 'slow/step', '--follow', '-p', path.join(dir, 'pipelines')], (t) => {
      seen += t;
    }).then((r) => {
      finished = true;
      return r;
    });
    await expect.poll(() => seen, { timeout: 10_000, interval: 20 }).toBe('before follow\n');
    s.emit(ev('log', m.id, { key: 'slow/step', line: 'while following 1' }));
    s.emit(ev('log', m.id, { key: 'slow/step', line: 'while following 2' }));
    s.flush();
    await expect.poll(() => seen, { timeout: 10_000, interval: 20 }).toBe('before follow\nwhile following 1\nwhile following 2\n');
    expect(finished).toBe(false);
    s.emit(ev('log', m.id, { key: 'slow/step', line: 'last words' }));
    s.emit(ev('step_succeeded', m.id, { key: 'slow/step', attempt: 1 }));
    s.emit(ev('step_skipped', m.id, { key: 'other', message: 'x' }));
    s.emit(ev('run_finished', m.id, { status: 'success' }));
    const r = await following;
    s.close();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('before follow\nwhile following 1\nwhile following 2\nlast words\n');
  });

  it('--follow of all steps stops when the run is reaped because its runner died', async () => {
    const dir = tempDir('runner-cli-');
    const home = path.join(dir, '.runner');
    const s = Store.open(home);
    const m = meta(['a', 'b']);
    s.createRun(m);
    s.emit(ev('run_started', m.id));
    s.emit(ev('step_started', m.id, { key: 'a', attempt: 1 }));
    s.emit(ev('log', m.id, { key: 'a', line: 'from a' }));
    s.flush();
    const following = runCli(['logs', m.id, '--follow', '-p', path.join(dir, 'pipelines')]);
    await new Promise((r) => setTimeout(r, 100));
    // The owner "dies": a pid that no longer exists.
    s.db.prepare('UPDATE runs SET owner_pid = ?, owner_start = ? WHERE id = ?').run(2 ** 22 + 7, '1', m.id);
    s.close();
    const r = await following;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('a | from a\n');
    const after = Store.open(home);
    expect(after.getRun(m.id)!.status).toBe('failure');
    after.close();
  });
});
