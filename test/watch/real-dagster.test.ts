/**
 * `runner serve` watching a real Dagster, for each pinned version (the team's, the newest
 * 1.x): runs of two code locations are launched through the webserver and fail for real
 * (an op, a dbt-style asset, a killed run worker, a run Dagster retries), on an instance
 * with run retries (webserver + daemon) and one without. The watcher must alert exactly
 * once per failed run, never on the attempt Dagster retries, and not again after a restart.
 */
import path from 'node:path';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, query, type ServeProc } from '../serve/proc.js';
import { FakeSlack } from '../support/fake-slack.js';
import { DAGSTER_VERSIONS, DagsterSite } from '../support/dagster/site.js';
import { FINISHED, type DagsterApi, type RealRun } from '../support/dagster/api.js';
import { waitUntil } from '../support/dagster/processes.js';
import { tempDir } from './helpers.js';

/** A project with one watcher per instance, polling every second. */
function writeProject(root: string): void {
  const dir = path.join(root, 'pipelines');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'main.yaml'),
    `environments:
  default: production
  production:
    vars:
      dagster_url: "\${env:TEST_DAGSTER_URL}"
      dagster_no_retries_url: "\${env:TEST_DAGSTER_NO_RETRIES_URL}"
secrets:
  slack_webhook: {env: SLACK_WEBHOOK_URL}
notifications:
  - name: run_failure_slack
    on: [run_failure]
    slack: {webhook: "\${secret:slack_webhook}"}
watchers:
  - name: dagster_main
    dagster: {url: "\${var:dagster_url}"}
    interval: 1s
    notify: [run_failure_slack]
    default_status: running
  - name: dagster_no_retries
    dagster: {url: "\${var:dagster_no_retries_url}"}
    interval: 1s
    notify: [run_failure_slack]
    default_status: running
`,
  );
}

/** Waits until every run is finished and every retry Dagster promised has finished too. */
async function dagsterSettled(api: DagsterApi, atLeast: number, timeoutMs: number): Promise<RealRun[]> {
  return waitUntil(
    `Dagster at ${api.url} to finish ${atLeast} runs and their retries`,
    async () => {
      const runs = await api.runs();
      if (runs.length < atLeast || !runs.every((r) => FINISHED.has(r.status))) return undefined;
      const promised = runs.filter((r) => r.status === 'FAILURE' && r.tags['dagster/will_retry'] === 'true');
      return promised.every((r) => runs.some((x) => x.runId === r.tags['dagster/auto_retry_run_id'])) ? runs : undefined;
    },
    [],
    timeoutMs,
    500,
  );
}

const alertedRunIds = (slack: FakeSlack): string[] => slack.accepted.map((p) => /\/runs\/([0-9a-f-]{36})/.exec(JSON.stringify(p))?.[1] ?? '?');

describe.each(DAGSTER_VERSIONS)('runner serve watching Dagster %s', (version) => {
  let site: DagsterSite | undefined;
  let slack: FakeSlack;
  let serve: ServeProc | undefined;
  let root: string;
  let env: Record<string, string>;
  let main: DagsterApi;
  let noRetries: DagsterApi;
  const ids: Record<string, string> = {};
  let mainRuns: RealRun[] = [];
  const started = Date.now();

  const stopServe = async (): Promise<void> => {
    if (!serve || serve.child.exitCode !== null) return;
    serve.child.kill('SIGTERM');
    const code = await serve.exited;
    expect(code).toBe(0);
  };
  const alertsSettled = (count: number, what: string) =>
    waitUntil(
      what,
      async () => {
        const open = query<{ n: number }>(env.RUNNER_HOME!, "SELECT COUNT(*) AS n FROM watcher_alerts WHERE status IN ('retry_pending', 'claimed', 'sending', 'failed')")[0]!.n;
        return slack.accepted.length >= count && open === 0 ? true : undefined;
      },
      [],
      60_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nalerts: ${alertedRunIds(slack).join(', ')}\nserve:\n${serve?.lines.slice(-40).join('\n')}\n${serve?.stderr.join('')}`);
    });

  beforeAll(async () => {
    [site, slack] = await Promise.all([
      DagsterSite.start(version, [
        { name: 'main', retries: true, daemon: true, locations: ['ops_location', 'assets_location'] },
        { name: 'no_retries', retries: false, daemon: false, locations: ['ops_location'] },
      ]),
      FakeSlack.start(),
    ]);
    main = site.instance('main').api;
    noRetries = site.instance('no_retries').api;
    root = tempDir('runner-real-dagster-');
    writeProject(root);
    env = { RUNNER_HOME: path.join(root, '.runner'), RUNNER_PIPELINES: 'pipelines', TEST_DAGSTER_URL: main.url, TEST_DAGSTER_NO_RETRIES_URL: noRetries.url, SLACK_WEBHOOK_URL: slack.url };
    serve = await startServe(root, ['--env', 'production'], env);
    // Both watchers start their cursor at their first poll: runs launched after it are theirs.
    await waitUntil('both watchers to poll', async () => (query<{ n: number }>(env.RUNNER_HOME!, 'SELECT COUNT(*) AS n FROM watcher_state WHERE last_success_at IS NOT NULL')[0]!.n === 2 ? true : undefined), [], 30_000);

    const launches: Array<[string, Promise<string>]> = [
      ['op', main.launch('ops_location', 'fails_in_one_op')],
      ['dbt', main.launch('assets_location', 'dbt_build')],
      ['killed', main.launch('ops_location', 'killed_run')],
      ['flaky', main.launch('ops_location', 'fails_once', { 'dagster/max_retries': '1' })],
      ['retriedTwice', main.launch('ops_location', 'fails_in_one_op', { 'dagster/max_retries': '1' })],
      ['noRetryOnStep', main.launch('ops_location', 'fails_in_one_op', { 'dagster/max_retries': '2', 'dagster/retry_on_asset_or_op_failure': 'false' })],
      ['disabled', noRetries.launch('ops_location', 'fails_in_one_op', { 'dagster/max_retries': '3' })],
    ];
    for (const [k, p] of launches) ids[k] = await p;
    // 6 runs on main and 2 retries; 1 run on the instance without retries.
    [mainRuns] = await Promise.all([dagsterSettled(main, 8, 180_000), dagsterSettled(noRetries, 1, 60_000)]);
    await alertsSettled(6, 'the alerts of the 6 final failures');
  }, 420_000);

  afterAll(async () => {
    if (process.env.RUNNER_TEST_DAGSTER_DUMP && site) {
      const runs = [...(await main.runs().catch(() => [])), ...(await noRetries.runs().catch(() => []))];
      fs.writeFileSync(process.env.RUNNER_TEST_DAGSTER_DUMP, JSON.stringify({ ids, runs, alerts: slack.accepted, serve: serve?.lines }, null, 1));
    }
    if (serve && serve.child.exitCode === null) {
      serve.child.kill('SIGKILL');
      await serve.exited;
    }
    await site?.stop();
    await slack?.close();
    process.stderr.write(`real Dagster ${version}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }, 60_000);

  const alertOf = (runId: string): string => {
    const i = alertedRunIds(slack).indexOf(runId);
    expect(i, `an alert for run ${runId}`).toBeGreaterThanOrEqual(0);
    return JSON.stringify(slack.accepted[i]);
  };
  const retryOf = (runId: string): RealRun => mainRuns.find((r) => r.parentRunId === runId && r.tags['dagster/retry_number'] === '1')!;

  it('alerts exactly once per failed run: job, code location, failed steps and errors', () => {
    const expected = [ids.op!, ids.dbt!, ids.killed!, retryOf(ids.retriedTwice!).runId, ids.noRetryOnStep!, ids.disabled!];
    expect(alertedRunIds(slack).sort()).toEqual(expected.sort());
    expect(slack.received.every((m) => m.problems.length === 0)).toBe(true);

    const op = alertOf(ids.op!);
    expect(op).toContain('Production Run Failure');
    expect(op).toContain('*Job:* `fails_in_one_op`');
    expect(op).toContain('*Code location:* `ops_location`');
    expect(op).toContain(':x: *`transform`* failed');
    expect(op).toContain("ValueError: transform: column 'amount' is not numeric (42 rows read)");
    expect(op).not.toContain('*`load`* failed');
    expect(op).toContain(`${main.url}/runs/${ids.op}`);

    const dbt = alertOf(ids.dbt!);
    expect(dbt).toContain('*Code location:* `assets_location`');
    expect(dbt).toContain(':x: *`dbt_models`* failed');
    expect(dbt).toContain('Database Error in model orders (models/orders.sql)');
    expect(dbt).toContain('column \\"amount_usd\\" does not exist');
    expect(dbt).not.toContain('The dbt CLI process with command');

    const killed = alertOf(ids.killed!);
    expect(killed).toContain('*Job:* `killed_run`');
    expect(killed).toContain('*The run failed:*');
    expect(killed).toMatch(/terminated by signal 9 \(SIGKILL\)/);
  });

  it('does not alert on the attempt Dagster retries, and alerts once on the final failure of a retried run', () => {
    const flakyRetry = retryOf(ids.flaky!);
    expect(flakyRetry.status).toBe('SUCCESS');
    const alerted = alertedRunIds(slack);
    expect(alerted).not.toContain(ids.flaky);
    expect(alerted).not.toContain(flakyRetry.runId);
    expect(alerted).not.toContain(ids.retriedTwice);
    const last = retryOf(ids.retriedTwice!);
    expect(last).toMatchObject({ status: 'FAILURE', tags: expect.objectContaining({ 'dagster/will_retry': 'false' }) });
    expect(alertOf(last.runId)).toContain(`*Attempt:* attempt 2 (retry 1 of run ${ids.retriedTwice!.split('-')[0]}), the last`);
    // Dagster refuses to retry a step failure when retry_on_asset_or_op_failure is false: alerted at once.
    expect(mainRuns.find((r) => r.runId === ids.noRetryOnStep)!.tags['dagster/will_retry']).toBe('false');
    const skipped = query<{ run_id: string; detail: string }>(env.RUNNER_HOME!, "SELECT run_id, detail FROM watcher_alerts WHERE status = 'skipped' ORDER BY run_id");
    expect(skipped.map((r) => r.run_id).sort()).toEqual([ids.flaky!, ids.retriedTwice!].sort());
    expect(skipped.every((r) => /^Dagster retried it as run [0-9a-f-]{36} \((STARTING|STARTED|SUCCESS|FAILURE)\)$/.test(r.detail))).toBe(true);
  });

  it('alerts on a failed run of an instance with retries disabled, even when it is tagged dagster/max_retries', () => {
    const disabled = alertOf(ids.disabled!);
    expect(disabled).toContain(`${noRetries.url}/runs/${ids.disabled}`);
    expect(disabled).toContain(':x: *`transform`* failed');
  });

  it('sends no duplicate across a serve restart, and alerts on a failure from while it was down', async () => {
    await stopServe();
    const whileDown = await noRetries.launch('ops_location', 'fails_in_one_op');
    await dagsterSettled(noRetries, 2, 60_000);
    serve = await startServe(root, ['--env', 'production'], env);
    await alertsSettled(7, 'the alert of the failure from while serve was down');
    // A few more polls of both watchers: nothing else.
    const polls = () => query<{ at: string }>(env.RUNNER_HOME!, 'SELECT MIN(last_success_at) AS at FROM watcher_state')[0]!.at;
    const before = polls();
    await waitUntil('more polls after the restart', async () => (polls() > before ? true : undefined), [], 20_000);
    await new Promise((r) => setTimeout(r, 7000)); // past the 5 s settle time: anything due would be sent by now
    const alerted = alertedRunIds(slack);
    expect(alerted).toHaveLength(7);
    expect(new Set(alerted).size).toBe(7);
    expect(alerted.at(-1)).toBe(whileDown);
    await stopServe();
  }, 150_000);
});
