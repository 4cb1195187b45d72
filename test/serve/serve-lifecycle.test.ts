/**
 * One `runner serve` process (the built CLI) over a temp project, followed through its life:
 * a schedule fires on time, health and metrics after the run, start/stop from the CLI,
 * hot reload with a broken file, JSON log lines, and a clean SIGTERM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../schedule/helpers.js';
import { parsePrometheus, query, runCli, sampleValue, startServe, waitFor, type ServeProc } from './proc.js';

const SCHEDULES = `
schedules:
  - name: tick
    cron: "*/2 * * * * *"
    job: demo_job
    default_status: running
  - name: manual
    cron: "* * * * * *"
    select: demo/a
`;

const ASSETS = `
assets:
  - key: demo/a
    handler: command
    config: {run: [sh, -c, "echo a"]}
  - key: demo/b
    deps: [demo/a]
    handler: command
    config: {run: [sh, -c, "echo b"]}
jobs:
  - name: demo_job
    select: "demo/*"
`;

let root: string;
let home: string;
let env: Record<string, string>;
let serve: ServeProc;
let startedAt: number;

interface TickRow {
  schedule: string;
  tick_time: string;
  run_id: string | null;
  outcome: string;
  reason: string | null;
  created_at: string;
}
const ticks = (schedule: string) => query<TickRow>(home, 'SELECT * FROM ticks WHERE schedule = ? ORDER BY tick_time', schedule);
const json = () => serve.lines.map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  root = tempDir('runner-serve-');
  home = path.join(root, 'home');
  env = { RUNNER_HOME: home, RUNNER_ENV: '', DAGSTER_ENV: '' };
  fs.mkdirSync(path.join(root, 'pipelines'));
  fs.writeFileSync(path.join(root, 'pipelines', 'main.yaml'), ASSETS + SCHEDULES);
  startedAt = Date.now();
  serve = await startServe(root, ['-p', 'pipelines', '--log-format', 'json'], env);
});

afterAll(async () => {
  if (serve.child.exitCode === null) {
    serve.child.kill('SIGKILL');
    await serve.exited;
  }
  fs.rmSync(root, { recursive: true, force: true });
});

describe('runner serve', () => {
  it('fires a schedule due in the next seconds within 1 s of its time, and records its run', async () => {
    const first = await waitFor('a started tick', () => ticks('tick').find((t) => t.outcome === 'started'));
    const tickMs = Date.parse(first.tick_time);
    expect(tickMs).toBeGreaterThanOrEqual(startedAt - 2000);
    // Claimed, and its run created, within a second of the tick.
    expect(Date.parse(first.created_at) - tickMs).toBeLessThan(1000);
    const run = await waitFor('the run to finish', () =>
      query<{ status: string; created_at: string; trigger: string }>(home, "SELECT * FROM runs WHERE id = ? AND status NOT IN ('queued', 'started')", first.run_id)[0],
    );
    expect(run.status).toBe('success');
    expect(Date.parse(run.created_at) - tickMs).toBeLessThan(1000);
    expect(JSON.parse(run.trigger)).toEqual({ type: 'schedule', schedule: 'tick', tick: first.tick_time });
    // Stopped by default: the other schedule never ticked.
    expect(ticks('manual')).toEqual([]);
  });

  it('answers /healthz, /readyz and /metrics with values that reflect the run', async () => {
    const health = await fetch(`${serve.url}/healthz`);
    expect(health.status).toBe(200);
    const h = (await health.json()) as { status: string; checks: Record<string, { ok: boolean; age_seconds?: number }> };
    expect(h.status).toBe('ok');
    expect(h.checks.scheduler!.ok).toBe(true);
    expect(h.checks.scheduler!.age_seconds).toBeLessThan(15);
    expect(h.checks.store!.ok).toBe(true);

    const ready = await fetch(`${serve.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: { definitions: { schedules: number } } }).checks.definitions.schedules).toBe(2);

    const res = await fetch(`${serve.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const { samples, types } = parsePrometheus(await res.text());
    const successes = query<{ n: number }>(home, "SELECT COUNT(*) AS n FROM runs WHERE status = 'success'")[0]!.n;
    expect(successes).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'runner_runs', { status: 'success' })).toBeGreaterThanOrEqual(successes);
    expect(sampleValue(samples, 'runner_runs', { status: 'failure' })).toBe(0);
    expect(sampleValue(samples, 'runner_serve_runs_finished_total', { schedule: 'tick', status: 'success' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'runner_schedule_ticks_total', { schedule: 'tick', outcome: 'started' })).toBeGreaterThanOrEqual(1);
    expect(types.get('runner_step_duration_seconds')).toBe('histogram');
    const count = sampleValue(samples, 'runner_step_duration_seconds_count', { asset: 'demo/a', status: 'success' })!;
    expect(count).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'runner_step_duration_seconds_bucket', { asset: 'demo/a', status: 'success', le: '+Inf' })).toBe(count);
    const since = sampleValue(samples, 'runner_asset_seconds_since_last_success', { asset: 'demo/b' })!;
    expect(since).toBeGreaterThanOrEqual(0);
    expect(since).toBeLessThan(60);
    expect(sampleValue(samples, 'runner_schedule_running', { schedule: 'tick' })).toBe(1);
    expect(sampleValue(samples, 'runner_schedule_running', { schedule: 'manual' })).toBe(0);
    expect(sampleValue(samples, 'runner_alert_delivery_failures_total')).toBe(0);
    expect(sampleValue(samples, 'runner_definition_reload_errors_total')).toBe(0);
    expect(types.get('runner_alert_delivery_failures_total')).toBe('counter');

    expect((await fetch(`${serve.url}/nope`)).status).toBe(404);
  });

  it('starts and stops a schedule from the CLI while serve runs', async () => {
    const start = await runCli(root, ['schedule', 'start', 'manual', '-p', 'pipelines'], env);
    expect(start.code).toBe(0);
    expect(start.stdout).toContain('Schedule manual started (was stopped)');
    expect(start.stdout).toMatch(/running runner serve \(pid \d+/);
    const startedTick = await waitFor('a tick of the started schedule', () => ticks('manual').find((t) => t.outcome === 'started'), 8000);
    expect(startedTick.run_id).toBeTruthy();

    const list = await runCli(root, ['schedule', 'list', '-p', 'pipelines', '--json'], env);
    const doc = JSON.parse(list.stdout) as { schedules: Array<{ name: string; status: string; status_source: string; next_ticks: unknown[]; last_tick: { outcome: string } | null }> };
    const manual = doc.schedules.find((s) => s.name === 'manual')!;
    expect(manual).toMatchObject({ status: 'running', status_source: 'set' });
    expect(manual.next_ticks).toHaveLength(3);
    expect(manual.last_tick).not.toBeNull();

    const stop = await runCli(root, ['schedule', 'stop', 'manual', '-p', 'pipelines'], env);
    expect(stop.code).toBe(0);
    await waitFor('serve to see the stop', () => json().some((l) => l.msg === 'schedule stopped' && l.schedule === 'manual'), 8000);
    const after = ticks('manual').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(ticks('manual')).toHaveLength(after);

    const history = await runCli(root, ['schedule', 'history', 'manual', '-p', 'pipelines', '--json'], env);
    const h = JSON.parse(history.stdout) as { ticks: Array<{ outcome: string; run_id: string | null }> };
    expect(h.ticks.length).toBe(after);
    expect(h.ticks.some((t) => t.outcome === 'started' && t.run_id === startedTick.run_id)).toBe(true);

    const unknown = await runCli(root, ['schedule', 'start', 'manaul', '-p', 'pipelines'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("did you mean 'manual'");
    expect(unknown.stderr).not.toContain('    at ');
  });

  it('keeps the last good definitions when a change is invalid, and applies a valid one', async () => {
    const broken = path.join(root, 'pipelines', 'broken.yaml');
    fs.writeFileSync(broken, 'schedules:\n  - name: bad\n    cron: "not a cron"\n    job: demo_job\n');
    const err = await waitFor('the reload error', () => json().find((l) => l.level === 'error' && String(l.msg).startsWith('definitions not reloaded')));
    expect(String(err.msg)).toMatch(/broken\.yaml:\d+:\d+: /);
    const { samples } = parsePrometheus(await (await fetch(`${serve.url}/metrics`)).text());
    expect(sampleValue(samples, 'runner_definition_reload_errors_total')).toBe(1);
    // Still ticking with the previous definitions.
    const before = ticks('tick').length;
    await waitFor('another tick after the broken change', () => ticks('tick').length > before, 6000);
    const ready = (await (await fetch(`${serve.url}/readyz`)).json()) as { checks: { definitions: { detail?: string } } };
    expect(ready.checks.definitions.detail).toContain('broken.yaml');

    // Fix it, and remove the `tick` schedule: it stops ticking.
    fs.rmSync(broken);
    fs.writeFileSync(path.join(root, 'pipelines', 'main.yaml'), ASSETS + SCHEDULES.replace(/  - name: tick[\s\S]*?default_status: running\n/, ''));
    await waitFor('the reload', () => json().find((l) => String(l.msg).includes('schedules removed: tick')));
    await new Promise((r) => setTimeout(r, 300));
    const n = ticks('tick').length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(ticks('tick')).toHaveLength(n);
  });

  it('writes JSON lines and exits 0 on SIGTERM', async () => {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    const lines = json();
    for (const l of lines) {
      expect(typeof l.ts).toBe('string');
      expect(['debug', 'info', 'warn', 'error']).toContain(l.level);
      expect(typeof l.msg).toBe('string');
    }
    expect(lines.at(-1)!.msg).toBe('stopped');
    // Its presence row is gone: a later `schedule start` says no serve is running.
    expect(query(home, 'SELECT * FROM serve_processes')).toEqual([]);
  });
});
