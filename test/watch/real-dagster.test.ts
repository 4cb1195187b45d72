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
import { opFailureRun } from './scenarios.js';
import { FakeDagster, RUN_EVENT_TYPES, RUN_EVENT_TYPES_ADDED_IN_1_13 } from '../support/fake-dagster.js';
import { DagsterClient, type DagsterRunDetail, type DagsterRunSummary } from '../../src/watch/dagster-client.js';
import { buildDagsterAlert } from '../../src/watch/alert.js';
import { PEER_PINS } from '../support/peers.js';

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
      // A retry Dagster created but could not submit stays NOT_STARTED, its failed parent tagged will_retry=false.
      const abandoned = (r: RealRun): boolean => r.status === 'NOT_STARTED' && runs.some((p) => p.runId === r.parentRunId && p.tags['dagster/will_retry'] === 'false');
      if (runs.length < atLeast || !runs.every((r) => FINISHED.has(r.status) || abandoned(r))) return undefined;
      // Dagster promised a retry: wait for it, or for the promise to be taken back.
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
  let firstServeLines: string[] = [];
  let started = 0;

  const stopServe = async (): Promise<void> => {
    if (!serve || serve.child.exitCode !== null) return;
    serve.child.kill('SIGTERM');
    const code = await serve.exited;
    expect(code).toBe(0);
  };
  /** Waits until the watchers have a settled row for every failed run Dagster has, and Slack has `count` alerts. */
  const alertsSettled = (count: number, what: string) =>
    waitUntil(
      what,
      async () => {
        const failed = [...(await main.runs()), ...(await noRetries.runs())].filter((r) => r.status === 'FAILURE').map((r) => r.runId);
        const rows = query<{ run_id: string; status: string }>(env.RUNNER_HOME!, 'SELECT run_id, status FROM watcher_alerts');
        const settled = new Set(rows.filter((r) => !['retry_pending', 'claimed', 'sending', 'failed'].includes(r.status)).map((r) => r.run_id));
        return slack.accepted.length >= count && failed.every((id) => settled.has(id)) ? true : undefined;
      },
      [],
      60_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nalerts: ${alertedRunIds(slack).join(', ')}\nserve:\n${serve?.lines.slice(-40).join('\n')}\n${serve?.stderr.join('')}`);
    });

  beforeAll(async () => {
    started = Date.now();
    [site, slack] = await Promise.all([
      DagsterSite.start(version, [
        { name: 'main', retries: true, daemon: true, locations: ['ops_location', 'assets_location', 'doomed_location'] },
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

    // The first run of an instance creates its run storage: launched alone (concurrent first launches race in
    // Dagster's SQLite migrations), the others together.
    [ids.op, ids.disabled] = await Promise.all([main.launch('ops_location', 'fails_in_one_op'), noRetries.launch('ops_location', 'fails_in_one_op', { 'dagster/max_retries': '3' })]);
    [ids.dbt, ids.killed, ids.flaky, ids.retriedTwice, ids.noRetryOnStep, ids.takenBack] = await Promise.all([
      main.launch('assets_location', 'dbt_build'),
      main.launch('ops_location', 'killed_run'),
      main.launch('ops_location', 'fails_once', { 'dagster/max_retries': '1' }),
      main.launch('ops_location', 'fails_in_one_op', { 'dagster/max_retries': '1' }),
      main.launch('ops_location', 'fails_in_one_op', { 'dagster/max_retries': '2', 'dagster/retry_on_asset_or_op_failure': 'false' }),
      main.launch('doomed_location', 'loses_its_code_server', { 'dagster/max_retries': '1' }),
    ]);
    // 7 runs on main and 2 retries; 1 run on the instance without retries. The retry of `takenBack` cannot be
    // launched (its code server is gone): Dagster takes it back (will_retry=false).
    await Promise.all([dagsterSettled(main, 9, 180_000), dagsterSettled(noRetries, 1, 60_000)]);
    await alertsSettled(7, 'the alerts of the 7 final failures');
    // Read again: Dagster tags a failed run (dagster/will_retry) a moment after its status changes.
    mainRuns = await main.runs();
    firstServeLines = serve.lines;
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
    const expected = [ids.op!, ids.dbt!, ids.killed!, retryOf(ids.retriedTwice!).runId, ids.noRetryOnStep!, ids.takenBack!, ids.disabled!];
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

  it('alerts on a run whose retry Dagster took back (the retry could not be launched)', () => {
    expect(mainRuns.find((r) => r.runId === ids.takenBack)!.tags['dagster/will_retry']).toBe('false');
    const alert = alertOf(ids.takenBack!);
    expect(alert).toContain('*Code location:* `doomed_location`');
    expect(alert).toContain(':x: *`freeze_code_server`* failed');
    expect(alert).toContain('export: the code server went away mid-run');
    // The daemon takes the retry back within a second or two: the watcher saw the promise only if a poll fell in
    // between (it waits 5 s after a failure), and then says why it alerts after all.
    const sawPromise = firstServeLines.some((l) => l.includes(`no alert yet for run ${ids.takenBack}`));
    const note = 'Dagster took its retry back (dagster/will_retry=false): launching the retry failed, so this failure is final.';
    if (sawPromise) expect(alert).toContain(note);
    else expect(alert).not.toContain(note);
  });

  it('alerts on a failed run of an instance with retries disabled, even when it is tagged dagster/max_retries', () => {
    const disabled = alertOf(ids.disabled!);
    expect(disabled).toContain(`${noRetries.url}/runs/${ids.disabled}`);
    expect(disabled).toContain(':x: *`transform`* failed');
  });

  it('sees in the double what it sees in the real webserver, for a job that fails in one op', async () => {
    const watch = async (url: string, runId: string): Promise<{ listed: DagsterRunSummary; detail: DagsterRunDetail; alert: string }> => {
      const client = new DagsterClient({ url });
      const listed = (await client.failedRunsSince(1)).find((r) => r.runId === runId)!;
      const detail = await client.runDetail(runId);
      return { listed, detail, alert: JSON.stringify(buildDagsterAlert(listed, detail, { env: 'production', dagsterUrl: url })).replaceAll(url, 'URL') };
    };
    const real = await watch(noRetries.url, ids.disabled!);
    const double = await FakeDagster.start();
    try {
      const run = opFailureRun({ as113: version !== PEER_PINS.dagster.team, runId: ids.disabled!, location: 'ops_location', job: 'fails_in_one_op', upstream: 'extract', op: 'transform', className: 'ValueError', message: "transform: column 'amount' is not numeric (42 rows read)", at: real.listed.updateTime! });
      run.tags = { ...run.tags, 'dagster/max_retries': '3' };
      double.add(run);
      const seen = await watch(double.url, ids.disabled!);
      // Times, pids and durations differ from run to run; everything else must match.
      const norm = (x: unknown): unknown => JSON.parse(JSON.stringify(x).replace(/pid: \d+/g, 'pid: N').replace(/ in [\d.]+m?s\b/g, ' in T'));
      const summary = (r: DagsterRunSummary) => ({ ...r, creationTime: 0, startTime: 0, endTime: 0, updateTime: 0, tags: r.tags.filter((t) => t.key.startsWith('dagster/')).sort((a, b) => a.key.localeCompare(b.key)) });
      expect(norm(summary(seen.listed))).toEqual(norm(summary(real.listed)));
      expect(norm({ ...seen.detail, run: summary(seen.detail.run!) })).toEqual(norm({ ...real.detail, run: summary(real.detail.run!) }));
      expect(seen.alert).toBe(real.alert);
    } finally {
      await double.close();
    }
    // The double's event union: the team's Dagster's members, and those 1.13 adds.
    const members = await noRetries.unionMembers('DagsterRunEvent');
    expect([...members].sort()).toEqual((version === PEER_PINS.dagster.team ? [...RUN_EVENT_TYPES] : [...RUN_EVENT_TYPES, ...RUN_EVENT_TYPES_ADDED_IN_1_13]).sort());
  });

  it('sends no duplicate across a serve restart, and alerts on a failure from while it was down', async () => {
    await stopServe();
    const whileDown = await noRetries.launch('ops_location', 'fails_in_one_op');
    await dagsterSettled(noRetries, 2, 60_000);
    serve = await startServe(root, ['--env', 'production'], env);
    await alertsSettled(8, 'the alert of the failure from while serve was down');
    // A few more polls of both watchers: nothing else.
    const polls = () => query<{ at: string }>(env.RUNNER_HOME!, 'SELECT MIN(last_success_at) AS at FROM watcher_state')[0]!.at;
    // Every run is older than the 5 s settle time by now, and each poll lists the last 2 minutes again: three
    // more polls of both watchers would have claimed anything twice.
    for (let i = 0; i < 3; i++) {
      const before = polls();
      await waitUntil('another poll after the restart', async () => (polls() > before ? true : undefined), [], 20_000);
    }
    const alerted = alertedRunIds(slack);
    expect(alerted).toHaveLength(8);
    expect(new Set(alerted).size).toBe(8);
    expect(alerted.at(-1)).toBe(whileDown);
    await stopServe();
  }, 150_000);
});
