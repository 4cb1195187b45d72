/** The in-process launcher: real runs of `command` assets, their alerts, and ticks that cannot start. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../src/definitions/load.js';
import type { Definitions } from '../../src/definitions/model.js';
import { Store } from '../../src/storage/store.js';
import { createLauncher } from '../../src/serve/launcher.js';
import { ServeMetrics } from '../../src/serve/serve-metrics.js';
import { createLogger } from '../../src/serve/log.js';
import { FakeSlack } from '../support/fake-slack.js';
import { tempDir } from '../schedule/helpers.js';

let root: string;
let store: Store;
let slack: FakeSlack;
let logLines: string[];

beforeEach(async () => {
  root = tempDir('runner-launch-');
  store = Store.open(path.join(root, 'home'));
  slack = await FakeSlack.start();
  logLines = [];
});
afterEach(async () => {
  store.close();
  await slack.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function project(okFile: string): Promise<Definitions> {
  const dir = path.join(root, 'pipelines');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'main.yaml'),
    `assets:
  - key: demo/flaky
    handler: command
    config: {run: [sh, -c, "echo checking; test -f ${okFile}"]}
  - key: demo/after
    deps: [demo/flaky]
    handler: command
    config: {run: [sh, -c, "echo after"]}
jobs:
  - name: demo_job
    select: "demo/*"
schedules:
  - name: nightly
    cron: "0 2 * * *"
    job: demo_job
  - name: elsewhere
    cron: "0 3 * * *"
    job: demo_job
    env: prod
environments:
  default: dev
  dev: {vars: {}}
  prod:
    vars: {api: "\${env:RUNNER_TEST_UNSET_VARIABLE}"}
notifications:
  - name: slack
    on: [run_failure, run_recovered]
    slack: {webhook: "\${env:TEST_SLACK_WEBHOOK}"}
`,
  );
  const r = await loadDefinitions(dir, { cacheDir: false });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.value;
}

function setup(defs: Definitions, webhook: string) {
  const metrics = new ServeMetrics({ db: () => store.db, defs: () => defs, statuses: () => new Map(), lastWake: () => undefined, activeRuns: () => 0 });
  const log = createLogger({ format: 'json', write: (l) => logLines.push(l) });
  const launch = createLauncher({ store, log, metrics, processEnv: { ...process.env, TEST_SLACK_WEBHOOK: webhook }, delivery: { attempts: 1, timeoutMs: 2000 } });
  return { metrics, launch };
}

describe('launcher', () => {
  it('runs a schedule\'s job with the given run id, alerts on failure and on recovery', async () => {
    const okFile = path.join(root, 'ok');
    const defs = await project(okFile);
    const { metrics, launch } = setup(defs, slack.url);
    const nightly = defs.schedules.get('nightly')!;
    const tick = new Date('2024-05-01T02:00:00Z');

    const failed = await launch({ runId: 'run-1', schedule: nightly, tickTime: tick, defs }, new AbortController().signal);
    expect(failed).toEqual({ status: 'failure', error: 'failed: demo/flaky' });
    const run1 = store.getRun('run-1')!;
    expect(run1).toMatchObject({ status: 'failure', trigger: { type: 'schedule', schedule: 'nightly', tick: tick.toISOString() }, job: 'demo_job' });
    expect(run1.steps.map((s) => [s.key, s.status])).toEqual([
      ['demo/flaky', 'failure'],
      ['demo/after', 'skipped'],
    ]);
    expect(fs.readFileSync(run1.steps[0]!.log, 'utf8')).toContain('checking');
    expect(run1.alert?.status).toBe('sent');
    expect(slack.accepted).toHaveLength(1);
    expect(JSON.stringify(slack.accepted[0])).toContain('demo/flaky');

    fs.writeFileSync(okFile, '');
    const ok = await launch({ runId: 'run-2', schedule: nightly, tickTime: new Date('2024-05-02T02:00:00Z'), defs }, new AbortController().signal);
    expect(ok).toEqual({ status: 'success', error: undefined });
    expect(slack.accepted).toHaveLength(2);
    expect(JSON.stringify(slack.accepted[1]).toLowerCase()).toContain('recover');
    // No secret or webhook in the log.
    expect(logLines.join('')).not.toContain('s3cr3tW3bh00kT0k3n');

    const text = metrics.render();
    expect(text).toContain('runner_serve_runs_finished_total{schedule="nightly",status="failure"} 1');
    expect(text).toContain('runner_serve_runs_finished_total{schedule="nightly",status="success"} 1');
    expect(text).toContain('runner_alerts_total{status="sent"} 2');
    expect(text).toContain('runner_step_duration_seconds_count{asset="demo/flaky",status="failure"} 1');
    expect(text).toMatch(/runner_asset_seconds_since_last_success\{asset="demo\/after"\} \d/);
  });

  it('counts an alert whose delivery failed', async () => {
    const defs = await project(path.join(root, 'never'));
    slack.script.push({ status: 500, body: 'internal_error' });
    const { metrics, launch } = setup(defs, slack.url);
    const r = await launch({ runId: 'run-x', schedule: defs.schedules.get('nightly')!, tickTime: new Date(), defs }, new AbortController().signal);
    expect(r.status).toBe('failure');
    expect(store.getRun('run-x')!.alert?.status).toBe('failed');
    expect(metrics.render()).toContain('runner_alert_delivery_failures_total 1');
    expect(logLines.some((l) => JSON.parse(l).msg.startsWith('alert delivery failed'))).toBe(true);
  });

  it('does not start a run whose environment cannot be resolved, and says why', async () => {
    const defs = await project(path.join(root, 'never'));
    const { launch } = setup(defs, slack.url);
    const r = await launch({ runId: 'run-y', schedule: defs.schedules.get('elsewhere')!, tickTime: new Date(), defs }, new AbortController().signal);
    expect(r.status).toBe('not_started');
    expect(r.error).toContain('environment `prod`');
    expect(r.error).toContain('RUNNER_TEST_UNSET_VARIABLE');
    expect(store.getRun('run-y')).toBeUndefined();
  });

  it('cancels a run when its signal aborts', async () => {
    const defs = await project(path.join(root, 'never'));
    const slow = { ...defs.assets.get('demo/flaky')!, config: { run: ['sleep', '30'] } };
    defs.assets.set('demo/flaky', slow);
    const { launch } = setup(defs, slack.url);
    const ac = new AbortController();
    const p = launch({ runId: 'run-z', schedule: defs.schedules.get('nightly')!, tickTime: new Date(), defs }, ac.signal);
    await new Promise((r) => setTimeout(r, 500));
    ac.abort(new Error('runner serve is shutting down'));
    expect((await p).status).toBe('canceled');
    expect(store.getRun('run-z')!.steps.map((s) => s.status)).toEqual(['canceled', 'canceled']);
  });
});
