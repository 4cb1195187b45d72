import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { Registry } from '../../src/serve/metrics.js';
import { WatchService } from '../../src/watch/service.js';
import { setWatcherStatus } from '../../src/watch/state.js';
import { watcherHistory, watcherList } from '../../src/watch/commands.js';
import type { Logger } from '../../src/serve/log.js';
import { FakeDagster } from '../support/fake-dagster.js';
import { FakeSlack } from '../support/fake-slack.js';
import { failedRun, load, tempDir, writeProject } from './helpers.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function setup() {
  const root = tempDir();
  const dir = writeProject(root, { interval: '30s' });
  const dagster = await FakeDagster.start();
  const slack = await FakeSlack.start();
  cleanup.push(() => dagster.close(), () => slack.close());
  const processEnv = { TEST_DAGSTER_URL: dagster.url, SLACK_WEBHOOK_URL: slack.url };
  const { defs } = await load(dir, processEnv);
  const home = path.join(root, '.runner');
  const store = Store.open(home, { reap: false });
  // The CLI's connection: another process starting and stopping the watcher.
  const cli = Store.open(home, { reap: false });
  cleanup.push(() => store.close(), () => cli.close());
  let clock = Date.now();
  const registry = new Registry();
  const log = recordingLog();
  const service = new WatchService({
    db: () => store.db,
    defs: () => defs,
    processEnv,
    log,
    registry,
    now: () => new Date(clock),
    tuning: { settleMs: 0 },
    delivery: { sleep: async () => undefined, attempts: 1 },
    out: { write: () => undefined },
  });
  cleanup.push(() => service.stop());
  const def = defs.watchers.get('dagster_run_failures')!;
  const pass = async (advanceMs = 0): Promise<void> => {
    clock += advanceMs;
    service.wake();
    await service.idle();
  };
  return { dagster, slack, store, cli, def, defs, service, registry, log, pass, now: () => clock };
}

const metric = (text: string, line: string): number | undefined => {
  const m = text.split('\n').find((l) => l.startsWith(line + ' '));
  return m === undefined ? undefined : Number(m.slice(line.length + 1));
};

describe('WatchService', () => {
  it('polls only while the watcher runs, following start and stop from another process', async () => {
    const s = await setup();
    s.dagster.add(failedRun({ ago: 600 }));
    await s.pass();
    expect(s.dagster.requests).toHaveLength(0); // default_status: stopped

    setWatcherStatus(s.cli.db, s.def, 'running', new Date(s.now()));
    const run = failedRun({ updateTime: s.now() / 1000 + 1 });
    s.dagster.add(run);
    await s.pass(2000);
    expect(s.dagster.requests.length).toBeGreaterThan(0);
    expect(s.slack.accepted).toHaveLength(1); // the new failure, not the one from before the start
    expect(JSON.stringify(s.slack.accepted[0])).toContain(run.runId);
    expect(s.log.lines).toContain(`info watcher running: polls \${var:dagster_url} every 30s`);

    // Not due again before its interval.
    const n = s.dagster.requests.length;
    await s.pass(10_000);
    expect(s.dagster.requests).toHaveLength(n);
    await s.pass(21_000);
    expect(s.dagster.requests.length).toBeGreaterThan(n);

    setWatcherStatus(s.cli.db, s.def, 'stopped', new Date(s.now()));
    const m = s.dagster.requests.length;
    await s.pass(60_000);
    expect(s.dagster.requests).toHaveLength(m);
    expect(s.log.lines).toContain('info watcher stopped: no more polls');
    expect(metric(s.registry.render(), 'runner_watcher_running{watcher="dagster_run_failures"}')).toBe(0);
  });

  it('backs off while Dagster is unreachable, counts it, shows it in history, and catches up when it is back', async () => {
    const s = await setup();
    setWatcherStatus(s.cli.db, s.def, 'running', new Date(s.now() - 3_600_000));
    s.dagster.add(failedRun({ ago: 1000 }));
    await s.pass();
    expect(s.slack.accepted).toHaveLength(1);

    await s.dagster.stop();
    const missed = [failedRun({ ago: 900 }), failedRun({ ago: 800 })];
    s.dagster.add(...missed);
    await s.pass(30_000); // fails: next try in 30s
    await s.pass(30_000); // fails again: next try in 60s
    await s.pass(30_000); // not due
    let text = s.registry.render();
    expect(metric(text, 'runner_watcher_polls_total{result="error",watcher="dagster_run_failures"}')).toBe(2);
    expect(metric(text, 'runner_watcher_dagster_errors_total{kind="unreachable",watcher="dagster_run_failures"}')).toBe(2);
    expect(metric(text, 'runner_watcher_consecutive_failures{watcher="dagster_run_failures"}')).toBe(2);
    const list = watcherList(s.defs, s.store.db).watchers[0]!;
    expect(list).toMatchObject({ status: 'running', consecutive_failures: 2, last_error: expect.stringContaining('could not reach Dagster') });
    expect(s.log.lines.some((l) => /^warn poll of Dagster failed \(2 in a row\), retrying in 1m 00s/.test(l))).toBe(true);

    await s.dagster.restart();
    await s.pass(60_000);
    expect(s.slack.accepted).toHaveLength(3);
    text = s.registry.render();
    expect(metric(text, 'runner_watcher_polls_total{result="ok",watcher="dagster_run_failures"}')).toBe(2);
    expect(metric(text, 'runner_watcher_alerts_total{status="sent",watcher="dagster_run_failures"}')).toBe(3);
    expect(metric(text, 'runner_watcher_consecutive_failures{watcher="dagster_run_failures"}')).toBe(0);
    expect(metric(text, 'runner_watcher_pending_alerts{watcher="dagster_run_failures"}')).toBe(0);

    const h = watcherHistory(s.def, s.store.db, 20).entries;
    expect(h.filter((e) => e.kind === 'alert').map((e) => e.kind === 'alert' && e.status)).toEqual(['sent', 'sent', 'sent']);
    // Identical errors in a row share one entry (the first may differ: a kept-alive socket reset).
    const errors = h.filter((e) => e.kind === 'error');
    expect(errors.reduce((n, e) => n + (e.kind === 'error' ? e.count : 0), 0)).toBe(2);
    expect(errors.every((e) => e.kind === 'error' && /^could not reach Dagster \(/.test(e.detail ?? ''))).toBe(true);
    expect(h.find((e) => e.kind === 'recovered')).toMatchObject({ detail: 'Dagster answered again after 2 failed polls' });
  });

  it('counts the runs held back for a Dagster retry, and alerts when Dagster takes the retry back', async () => {
    const s = await setup();
    setWatcherStatus(s.cli.db, s.def, 'running', new Date(s.now() - 3_600_000));
    const run = failedRun({ ago: 100, tags: { 'dagster/will_retry': 'true' } });
    s.dagster.add(run);
    await s.pass();
    let text = s.registry.render();
    expect(metric(text, 'runner_watcher_retry_pending_runs{watcher="dagster_run_failures"}')).toBe(1);
    expect(metric(text, 'runner_watcher_alerts_total{status="retry_pending",watcher="dagster_run_failures"}')).toBe(1);
    expect(s.slack.accepted).toHaveLength(0);
    s.dagster.addTags(run.runId, { 'dagster/will_retry': 'false' });
    await s.pass(30_000);
    text = s.registry.render();
    expect(metric(text, 'runner_watcher_retry_pending_runs{watcher="dagster_run_failures"}')).toBe(0);
    expect(s.slack.accepted).toHaveLength(1);
    expect(s.log.lines.some((l) => l.startsWith(`warn alerting on run ${run.runId} of job nightly_job after all: Dagster took its retry back`))).toBe(true);
  });

  it('records a watcher whose URL does not resolve as a failing poll', async () => {
    const s = await setup();
    const service = new WatchService({ db: () => s.store.db, defs: () => s.defs, processEnv: {}, log: s.log, now: () => new Date(s.now()) });
    cleanup.push(() => service.stop());
    setWatcherStatus(s.cli.db, s.def, 'running', new Date(s.now()));
    service.wake();
    await service.idle();
    expect(watcherList(s.defs, s.store.db).watchers[0]!.last_error).toMatch(/TEST_DAGSTER_URL is not set/);
  });
});
