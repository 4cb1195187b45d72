import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { machineId } from '../../src/storage/proc.js';
import { pollOnce, type PollDeps } from '../../src/watch/poller.js';
import { DagsterError } from '../../src/watch/dagster-client.js';
import { type AlertRow, newOwner, parseCursor, readWatcherStates, setWatcherStatus, type Owner } from '../../src/watch/state.js';
import { watcherHistory } from '../../src/watch/commands.js';
import { FakeDagster, type FakeRun } from '../support/fake-dagster.js';
import { FakeSlack } from '../support/fake-slack.js';
import { failedRun, load, tempDir, writeProject, type ProjectOptions } from './helpers.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Setup {
  dagster: FakeDagster;
  slack: FakeSlack;
  slack2: FakeSlack;
  store: Store;
  home: string;
  printed: string[];
  deps: Omit<PollDeps, 'owner'>;
  poll(owner?: Owner, extra?: Partial<PollDeps>): ReturnType<typeof pollOnce>;
  rows(): AlertRow[];
  /** Run ids of the alerts Slack accepted, in order. */
  alerted(s?: FakeSlack): string[];
}

/** A project whose watcher was started an hour ago, a fake Dagster and Slack, a store. */
async function setup(o: ProjectOptions & { dagsterToken?: string } = {}): Promise<Setup> {
  const root = tempDir();
  const dir = writeProject(root, o);
  const cloud = o.cloud && o.dagsterToken ? { deployment: 'prod', token: o.dagsterToken } : undefined;
  const dagster = await FakeDagster.start(cloud ? { cloud } : { token: o.dagsterToken });
  const slack = await FakeSlack.start();
  const slack2 = await FakeSlack.start();
  cleanup.push(() => dagster.close(), () => slack.close(), () => slack2.close());
  const env: Record<string, string> = { TEST_DAGSTER_URL: cloud ? `${dagster.url}/prod` : dagster.url, SLACK_WEBHOOK_URL: slack.url, SLACK_WEBHOOK_URL_2: slack2.url };
  if (o.dagsterToken) env['DAGSTER_TOKEN'] = o.dagsterToken;
  const { defs, environment } = await load(dir, env);
  const home = path.join(root, '.runner');
  const store = Store.open(home, { reap: false });
  cleanup.push(() => store.close());
  const def = defs.watchers.get('dagster_run_failures')!;
  setWatcherStatus(store.db, def, 'running', new Date(Date.now() - 3_600_000));
  const printed: string[] = [];
  const deps: Omit<PollDeps, 'owner'> = {
    db: store.db,
    def,
    defs,
    env: environment,
    processEnv: env,
    out: { write: (t: string) => printed.push(t) },
    delivery: { sleep: async () => undefined, attempts: 2, timeoutMs: 3000 },
    tuning: { settleMs: 0, pageSize: 3, retryBaseMs: 0 },
  };
  const me = newOwner();
  return {
    dagster,
    slack,
    slack2,
    store,
    home,
    printed,
    deps,
    poll: (owner = me, extra = {}) => pollOnce({ ...deps, owner, ...extra }),
    rows: () => store.db.prepare('SELECT * FROM watcher_alerts ORDER BY run_updated_at').all() as AlertRow[],
    alerted: (s = slack) => s.accepted.map((p) => /\/runs\/([0-9a-z-]+)/.exec(JSON.stringify(p))![1]!),
  };
}

const deadOwner = (id = 'previous-serve'): Owner => ({ id, pid: process.pid, start: 'a-process-that-exited', machine: machineId() });

describe('pollOnce', () => {
  it('alerts every failed run of a backlog larger than one page once, oldest failure first', async () => {
    const s = await setup();
    // Created in one order, failed in another (a long run fails after a short one created later).
    const runs = [500, 100, 400, 200, 300, 450, 150, 350].map((ago, i) => failedRun({ runId: `0000000${i}-aaaa-4bbb-8ccc-dddddddddddd`, ago, location: `location_${i % 3}` }));
    s.dagster.add(...runs);
    const out = await s.poll();
    expect(out.claimed).toHaveLength(8);
    const byAge = [...runs].sort((a, b) => a.updateTime - b.updateTime).map((r) => r.runId);
    expect(s.alerted()).toEqual(byAge);
    expect(s.slack.received.every((r) => r.problems.length === 0)).toBe(true);
    expect(s.rows().map((r) => r.status)).toEqual(Array(8).fill('sent'));

    const payload = JSON.stringify(s.slack.accepted[0]);
    const first = runs.find((r) => r.runId === byAge[0])!;
    expect(payload).toContain('Production Run Failure');
    expect(payload).toContain('*Job:* `nightly_job`');
    expect(payload).toContain(`*Code location:* \`${first.location}\``);
    expect(payload).toContain(`*Run:* \`${first.runId.split('-')[0]}\``);
    expect(payload).toContain(`ValueError: ${first.steps![0]!.stepKey} broke`);
    expect(payload).toContain(`"url":"${s.dagster.url}/runs/${first.runId}"`);

    // Polled again (the look-back lists them again): nothing new.
    await s.poll();
    expect(s.slack.accepted).toHaveLength(8);
    const cursor = parseCursor(readWatcherStates(s.store.db).get('dagster_run_failures')!.cursor)!;
    expect(cursor.updated_after).toBe(Math.max(...runs.map((r) => r.updateTime)));
  });

  it('alerts unless Dagster said it will retry: a max_retries tag alone (retries disabled) alerts, a started retry skips, the last attempt alerts', async () => {
    const s = await setup();
    const retry = failedRun({ ago: 250, status: 'STARTED', tags: { 'dagster/retry_number': '1' } });
    const first = failedRun({ ago: 300, tags: { 'dagster/will_retry': 'true', 'dagster/max_retries': '1', 'dagster/auto_retry_run_id': retry.runId } });
    const disabled = failedRun({ ago: 290, tags: { 'dagster/max_retries': '2', 'dagster/retry_number': '1' } });
    const last = failedRun({ ago: 200, tags: { 'dagster/max_retries': '1', 'dagster/retry_number': '1', 'dagster/root_run_id': first.runId, 'dagster/will_retry': 'false' } });
    s.dagster.add(first, disabled, retry, last);
    const out = await s.poll();
    expect(out.pending).toEqual([first.runId]);
    expect(out.skipped).toEqual([first.runId]); // its retry has started: settled in the same poll
    expect(s.alerted()).toEqual([disabled.runId, last.runId]);
    expect(JSON.stringify(s.slack.accepted[1])).toContain(`*Attempt:* attempt 2 (retry 1 of run ${first.runId.split('-')[0]})`);
    const h = watcherHistory(s.deps.def, s.store.db, 10);
    expect(h.entries.find((e) => e.kind === 'alert' && e.run_id === first.runId)).toMatchObject({ status: 'skipped', detail: `Dagster retried it as run ${retry.runId} (STARTED)` });
  });

  it('keeps a run Dagster will retry pending until the retry starts, and alerts when Dagster takes the retry back', async () => {
    const s = await setup();
    const a = failedRun({ ago: 300, tags: { 'dagster/will_retry': 'true' } });
    const b = failedRun({ ago: 290, tags: { 'dagster/will_retry': 'true' } });
    s.dagster.add(a, b);
    expect((await s.poll()).pending).toEqual([a.runId, b.runId]);
    expect(await s.poll()).toMatchObject({ claimed: [], skipped: [], pending: [] });
    expect(s.rows().map((r) => r.status)).toEqual(['retry_pending', 'retry_pending']);
    // The daemon creates a's retry (not submitted yet: Dagster may still take it back), then submits it.
    const retry = failedRun({ ago: 0, status: 'NOT_STARTED', tags: { 'dagster/retry_number': '1' } });
    s.dagster.add(retry);
    s.dagster.addTags(a.runId, { 'dagster/auto_retry_run_id': retry.runId });
    expect((await s.poll()).skipped).toEqual([]);
    s.dagster.update(retry.runId, { status: 'QUEUED' });
    expect((await s.poll()).skipped).toEqual([a.runId]);
    // Submitting b's retry failed: the daemon writes will_retry=false. b's failure is final.
    s.dagster.addTags(b.runId, { 'dagster/will_retry': 'false' });
    const out = await s.poll();
    expect(out.claimed).toEqual([b.runId]);
    expect(s.alerted()).toEqual([b.runId]);
    expect(JSON.stringify(s.slack.accepted[0])).toContain('Dagster took its retry back (dagster/will_retry=false)');
    expect(s.rows().find((r) => r.run_id === b.runId)).toMatchObject({ status: 'sent' });
    expect(await s.poll()).toMatchObject({ claimed: [], delivered: [] });
  });

  it('alerts on a skipped run that Dagster lists again with will_retry=false, and on a retry that never starts', async () => {
    const s = await setup();
    const retry = failedRun({ ago: 200, status: 'STARTING', tags: { 'dagster/retry_number': '1' } });
    const a = failedRun({ ago: 300, tags: { 'dagster/will_retry': 'true', 'dagster/auto_retry_run_id': retry.runId } });
    const stuck = failedRun({ ago: 290, tags: { 'dagster/will_retry': 'true' } });
    s.dagster.add(a, stuck, retry);
    expect((await s.poll()).skipped).toEqual([a.runId]);
    s.dagster.addTags(a.runId, { 'dagster/will_retry': 'false' });
    expect((await s.poll()).claimed).toEqual([a.runId]);
    expect(s.alerted()).toEqual([a.runId]);
    // No retry for `stuck` (the daemon is down): alerted once the wait has run out, saying so.
    const late = await s.poll(undefined, { now: () => new Date(Date.now() + 16 * 60_000) });
    expect(late.claimed).toEqual([stuck.runId]);
    expect(s.alerted()).toEqual([a.runId, stuck.runId]);
    expect(JSON.stringify(s.slack.accepted[1])).toContain('no retry was launched within 15 min: is dagster-daemon running?');
  });

  it("alerts on a run without step failures with the run's own failure message", async () => {
    const s = await setup();
    const run = failedRun({ steps: [], events: [{ type: 'RunFailureEvent', message: 'Run timed out due to taking longer than 300 seconds to start.' }] });
    s.dagster.add(run);
    await s.poll();
    const payload = JSON.stringify(s.slack.accepted[0]);
    expect(payload).toContain('The run failed before any step started:');
    expect(payload).toContain('Run timed out due to taking longer than 300 seconds to start.');
  });

  it('masks every secret the runner knows in what Dagster reports, even one the watcher does not use', async () => {
    const s = await setup();
    // A declared secret (dagster_token from DAGSTER_TOKEN) that this watcher does not send; Dagster's error quotes it.
    const secret = 'dgp_quoted-by-a-failing-op-0123456789';
    const long = `${'x'.repeat(3000)} connect failed with password=${secret} & more`;
    s.dagster.add(failedRun({ steps: [], events: [{ type: 'RunFailureEvent', message: long }] }));
    await s.poll(undefined, { processEnv: { ...s.deps.processEnv, DAGSTER_TOKEN: secret } });
    expect(s.slack.accepted).toHaveLength(1);
    const dump = JSON.stringify([s.slack.accepted, s.rows(), s.printed]);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.slice(0, 12));
  });

  it('shows only the dbt errors of a dbt step failure', async () => {
    const s = await setup();
    const message = [
      'dagster_dbt.errors.DagsterDbtCliRuntimeError: The dbt CLI process with command',
      '',
      '`dbt build --select tag:hourly`',
      '',
      'failed with exit code `1`. Check the stdout in the Dagster compute logs for the full information about the error.',
      '',
      'Errors parsed from dbt logs:',
      '',
      'Compilation Error in model int__combined__users (models/intermediate/int__combined__users.sql)',
      "  Model 'model.open_learning.int__combined__users' depends on a node named 'stg__gone' which was not found",
    ].join('\n');
    const run = failedRun({ jobName: 'dbt_hourly', location: 'lakehouse', steps: [{ stepKey: 'dbt_hourly_assets', status: 'FAILURE' }], events: [{ type: 'ExecutionStepFailureEvent', stepKey: 'dbt_hourly_assets', error: { message, className: 'DagsterDbtCliRuntimeError' } }, { type: 'RunFailureEvent', message: 'Execution of run for "dbt_hourly" failed.' }] });
    s.dagster.add(run);
    await s.poll();
    const payload = JSON.stringify(s.slack.accepted[0]);
    expect(payload).toContain('Compilation Error in model int__combined__users');
    expect(payload).not.toContain('The dbt CLI process');
    expect(payload).not.toContain('Errors parsed from dbt logs');
  });

  it('loses nothing and doubles nothing when Dagster goes down and comes back', async () => {
    const s = await setup();
    const before = [failedRun({ ago: 900 }), failedRun({ ago: 800 })];
    s.dagster.add(...before);
    await s.poll();
    await s.dagster.stop();
    const during = [failedRun({ ago: 500 }), failedRun({ ago: 400 }), failedRun({ ago: 300 }), failedRun({ ago: 200 })];
    s.dagster.add(...during); // failed while the webserver was unreachable
    const err = await s.poll().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DagsterError);
    expect((err as DagsterError).kind).toBe('unreachable');
    await s.dagster.restart();
    await s.poll();
    expect(s.alerted()).toEqual([...before, ...during].map((r) => r.runId));
  });

  it('keeps its claims when Dagster fails while it reads a run, and sends them on the next poll', async () => {
    const s = await setup();
    const runs = [failedRun({ ago: 500 }), failedRun({ ago: 400 }), failedRun({ ago: 300 })];
    s.dagster.add(...runs);
    const err = await s.poll(undefined, { hooks: { afterClaim: () => void s.dagster.script.push({ http: 503 }) } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'http' });
    expect(s.rows().map((r) => r.status)).toEqual(['claimed', 'claimed', 'claimed']);
    await s.poll();
    expect(s.alerted()).toEqual(runs.map((r) => r.runId));
  });

  it('alerts once when two pollers share a store', async () => {
    const s = await setup();
    const other = Store.open(s.home, { reap: false });
    cleanup.push(() => other.close());
    const a = newOwner();
    const b = newOwner();
    const all: FakeRun[] = [];
    for (let round = 0; round < 4; round++) {
      const runs = Array.from({ length: 5 }, (_, i) => failedRun({ ago: 1000 - round * 100 - i }));
      all.push(...runs);
      s.dagster.add(...runs);
      await Promise.all([s.poll(a), s.poll(b, { db: other.db }), s.poll(a), s.poll(b, { db: other.db })]);
    }
    const alerted = s.alerted();
    expect(alerted).toHaveLength(all.length);
    expect(new Set(alerted).size).toBe(all.length);
  });

  it('sends what a serve claimed before it died, once; a live serve keeps its claims until its lease ends', async () => {
    const s = await setup();
    const runs = [failedRun({ ago: 300 }), failedRun({ ago: 200 })];
    s.dagster.add(...runs);
    const crash = { afterClaim: () => Promise.reject(new Error('killed')) };
    await expect(s.poll(deadOwner(), { hooks: crash })).rejects.toThrow('killed');
    expect(s.rows().map((r) => [r.status, r.owner])).toEqual([
      ['claimed', 'previous-serve'],
      ['claimed', 'previous-serve'],
    ]);
    expect(s.slack.received).toHaveLength(0);
    await s.poll();
    await s.poll();
    expect(s.alerted()).toEqual(runs.map((r) => r.runId));

    // A serve that is alive (this process) but slow: its claim is not taken over before its lease ends.
    const later = failedRun({ ago: 100 });
    s.dagster.add(later);
    const alive: Owner = { ...newOwner(), id: 'live-serve' };
    await expect(s.poll(alive, { hooks: crash })).rejects.toThrow('killed');
    await s.poll();
    expect(s.slack.accepted).toHaveLength(2);
    await s.poll(undefined, { now: () => new Date(Date.now() + 11 * 60_000) });
    expect(s.alerted()).toEqual([...runs, later].map((r) => r.runId));
  });

  it('does not send again what a serve was sending when it died (at most once)', async () => {
    const s = await setup();
    const run = failedRun();
    s.dagster.add(run);
    await expect(s.poll(deadOwner(), { hooks: { beforeRequest: () => Promise.reject(new Error('killed mid-send')) } })).rejects.toThrow('killed mid-send');
    expect(s.rows()[0]!.status).toBe('sending');
    const out = await s.poll();
    expect(out.uncertain).toEqual([run.runId]);
    await s.poll();
    expect(s.slack.received).toHaveLength(0);
    expect(s.rows()[0]).toMatchObject({ status: 'uncertain', detail: expect.stringContaining('not sent again') });
  });

  it('retries a failed Slack delivery on a later poll, only to the notification that failed', async () => {
    const s = await setup({ twoTargets: true });
    const run = failedRun();
    s.dagster.add(run);
    s.slack2.script.push({ status: 500 }, { status: 500 });
    await s.poll();
    expect(s.rows()[0]).toMatchObject({ status: 'failed', attempts: 1, detail: expect.stringContaining('second_slack: Slack answered 500') });
    expect(JSON.parse(s.rows()[0]!.targets!)).toEqual({ run_failure_slack: 'sent', second_slack: 'failed' });
    await s.poll();
    expect(s.rows()[0]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(s.alerted(s.slack)).toEqual([run.runId]);
    expect(s.alerted(s.slack2)).toEqual([run.runId]);
    expect(s.slack.received).toHaveLength(1);
  });

  it('leaves a failure younger than the settle time for a later poll (Dagster may tag it for a retry)', async () => {
    const s = await setup();
    const fresh = failedRun({ ago: 1 });
    s.dagster.add(fresh);
    const out = await s.poll(undefined, { tuning: { settleMs: 5000 } });
    expect(out.claimed).toEqual([]);
    // Dagster tags it (which also moves its updateTime), then the next poll waits for the retry.
    s.dagster.addTags(fresh.runId, { 'dagster/will_retry': 'true' });
    const later = await s.poll(undefined, { tuning: { settleMs: 5000 }, now: () => new Date(Date.now() + 10_000) });
    expect(later.pending).toEqual([fresh.runId]);
    expect(s.slack.received).toHaveLength(0);
  });

  it('does not alert on failures from before the watcher was started', async () => {
    const s = await setup();
    s.dagster.add(failedRun({ ago: 7200 }));
    expect((await s.poll()).listed).toBe(0);
    expect(s.slack.received).toHaveLength(0);
  });

  it('sends the bearer token from its secret, and stores and prints it nowhere', async () => {
    const token = 'dgp_0123456789abcdef-token';
    const s = await setup({ token: true, dagsterToken: token });
    s.dagster.add(failedRun());
    await s.poll();
    expect(s.dagster.requests.every((r) => r.authorization === `Bearer ${token}`)).toBe(true);
    expect(s.slack.accepted).toHaveLength(1);
    const dump = JSON.stringify([s.rows(), [...readWatcherStates(s.store.db).values()]]);
    expect(dump).not.toContain(token);
  });

  it('sends Dagster+ its token as Dagster-Cloud-Api-Token, to the deployment URL, and links the alert there', async () => {
    const token = 'user:dgc_0123456789abcdef';
    const s = await setup({ token: true, cloud: true, dagsterToken: token });
    const run = failedRun();
    s.dagster.add(run);
    await s.poll();
    expect(s.dagster.requests.length).toBeGreaterThan(0);
    expect(s.dagster.requests.every((r) => r.path === '/prod/graphql' && r.cloudToken === token && r.authorization === undefined && r.status === 200)).toBe(true);
    expect(JSON.stringify(s.slack.accepted[0])).toContain(`${s.dagster.url}/prod/runs/${run.runId}`);
    expect(JSON.stringify(s.rows())).not.toContain(token);
    // A wrong token: Dagster+ answers 401, and the error points at the token.
    s.dagster.cloud = { deployment: 'prod', token: 'another' };
    await expect(s.poll()).rejects.toMatchObject({ kind: 'http', message: expect.stringMatching(/HTTP 401 \(check the watcher's dagster\.token, a Dagster\+ user or agent token/) });
  });

  it('refuses a Dagster+ watcher without a token or without a deployment in its URL', async () => {
    // Caught while loading (runner check) when the file says cloud: true...
    await expect(setup({ cloud: true })).rejects.toThrow(/watcher `dagster_run_failures` is on Dagster\+ \(cloud: true\) but has no dagster\.token/);
    // ...and at poll time when the URL says so.
    const plain = await setup();
    const onCloud = { ...plain.deps.processEnv, TEST_DAGSTER_URL: 'https://acme.dagster.cloud/prod' };
    const loaded = await load(path.join(path.dirname(plain.home), 'pipelines'), onCloud);
    await expect(plain.poll(undefined, { defs: loaded.defs, env: loaded.environment, processEnv: onCloud })).rejects.toThrow(/Dagster\+ needs dagster\.token/);
    const bare = await setup({ token: true, dagsterToken: 'x' });
    const processEnv = { ...bare.deps.processEnv, TEST_DAGSTER_URL: 'https://acme.dagster.cloud/' };
    const { defs, environment } = await load(path.join(path.dirname(bare.home), 'pipelines'), processEnv);
    await expect(bare.poll(undefined, { defs, env: environment, processEnv })).rejects.toThrow('dagster.url of Dagster+ must name the deployment (https://ORG.dagster.cloud/prod), not `https://acme.dagster.cloud/`');
  });

  it('prints the alert when no webhook is configured', async () => {
    const s = await setup();
    s.dagster.add(failedRun({ jobName: 'printed_job' }));
    const env = { ...s.deps.processEnv } as Record<string, string | undefined>;
    delete env['SLACK_WEBHOOK_URL'];
    await s.poll(undefined, { processEnv: env });
    expect(s.rows()[0]!.status).toBe('printed');
    expect(s.printed.join('')).toContain('PRODUCTION RUN FAILURE');
    expect(s.printed.join('')).toContain('printed_job');
  });
});
