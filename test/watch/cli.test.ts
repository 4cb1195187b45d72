/**
 * `runner watcher` from the built CLI, and one `runner serve` that picks a `watcher start`
 * up while running, alerts on a failed Dagster run, counts its polls in /metrics and
 * stops cleanly.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, waitFor, type ServeProc } from '../serve/proc.js';
import { FakeDagster } from '../support/fake-dagster.js';
import { FakeSlack } from '../support/fake-slack.js';
import { failedRun, tempDir, writeProject } from './helpers.js';

let root: string;
let env: Record<string, string>;
let dagster: FakeDagster;
let slack: FakeSlack;
let serve: ServeProc | undefined;

beforeAll(async () => {
  root = tempDir();
  writeProject(root, { interval: '1s' });
  dagster = await FakeDagster.start();
  slack = await FakeSlack.start();
  env = { RUNNER_HOME: path.join(root, '.runner'), TEST_DAGSTER_URL: dagster.url, SLACK_WEBHOOK_URL: slack.url, RUNNER_PIPELINES: 'pipelines' };
});

afterAll(async () => {
  if (serve && serve.child.exitCode === null) {
    serve.child.kill('SIGKILL');
    await serve.exited;
  }
  await dagster.close();
  await slack.close();
});

const cli = (...args: string[]) => runCli(root, args, env);

describe('runner watcher', () => {
  it('lists, starts, stops and shows history; unknown names are input errors', async () => {
    let r = await cli('watcher', 'list', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).watchers).toEqual([
      expect.objectContaining({ name: 'dagster_run_failures', status: 'stopped', status_source: 'default', dagster_url: '${var:dagster_url}', interval: '1s', notify: ['run_failure_slack'], cursor: null }),
    ]);
    r = await cli('watcher', 'start', 'dagster_run_failures');
    expect(r.stdout).toContain('Watcher dagster_run_failures started (was stopped).');
    expect(r.stdout).toContain('No runner serve is running on this store');
    r = await cli('watcher', 'start', 'dagster_run_failures');
    expect(r.stdout).toContain('is already running');
    r = await cli('watcher', 'list');
    expect(r.stdout).toMatch(/dagster_run_failures {2}running \(set \d{4}-/);
    r = await cli('watcher', 'stop', 'dagster_run_failures');
    expect(r.stdout).toContain('stopped (was running)');
    r = await cli('watcher', 'history', 'dagster_run_failures');
    expect(r.stdout).toBe('Nothing recorded for dagster_run_failures yet.\n');
    r = await cli('watcher', 'start', 'dagster_run_failure');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown watcher `dagster_run_failure`');
    expect(r.stderr).toContain('dagster_run_failures');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('serve picks `watcher start` up while running and alerts on the next failed Dagster run', async () => {
    serve = await startServe(root, ['--env', 'production'], env);
    const started = await cli('watcher', 'start', 'dagster_run_failures');
    expect(started.stdout).toContain('picks this up within a few seconds');
    await waitFor('serve to poll Dagster', () => dagster.requests.length > 0, 10_000);
    const run = failedRun({ ago: -0.5, jobName: 'sensor_job', location: 'other_location' });
    dagster.add(run);
    // The alert waits for the settle time (a few seconds: Dagster may still tag the run for a retry).
    await waitFor('the alert', () => slack.accepted.length > 0, 20_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${serve!.lines.join('\n')}\n${serve!.stderr.join('')}`);
    });
    const payload = JSON.stringify(slack.accepted[0]);
    expect(payload).toContain('Production Run Failure');
    expect(payload).toContain('other_location');
    expect(payload).toContain(`${dagster.url}/runs/${run.runId}`);

    const metrics = await (await fetch(`${serve.url}/metrics`)).text();
    expect(metrics).toMatch(/^runner_watcher_polls_total\{result="ok",watcher="dagster_run_failures"\} [1-9]/m);
    expect(metrics).toMatch(/^runner_watcher_alerts_total\{status="sent",watcher="dagster_run_failures"\} 1$/m);
    expect(metrics).toMatch(/^runner_watcher_running\{watcher="dagster_run_failures"\} 1$/m);

    const h = await cli('watcher', 'history', 'dagster_run_failures', '--json');
    expect(JSON.parse(h.stdout).entries).toEqual([expect.objectContaining({ kind: 'alert', run_id: run.runId, status: 'sent', job: 'sensor_job', location: 'other_location' })]);

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(slack.accepted).toHaveLength(1);
  }, 60_000);
});
