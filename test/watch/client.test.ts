import { afterEach, describe, expect, it } from 'vitest';
import { DagsterClient, DagsterError, isDagsterCloud, DAGSTER_QUERIES } from '../../src/watch/dagster-client.js';
import { FakeDagster } from '../support/fake-dagster.js';
import { failedRun, secondsAgo } from './helpers.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function fake(opts: { token?: string } = {}): Promise<FakeDagster> {
  const d = await FakeDagster.start(opts);
  open.push(d);
  return d;
}

async function post(d: FakeDagster, query: string, variables: Record<string, unknown> = {}): Promise<{ status: number; body: { data?: unknown; errors?: Array<{ message: string }> } }> {
  const res = await fetch(`${d.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: Array<{ message: string }> } };
}

describe('the fake Dagster', () => {
  it('rejects what the real schema rejects', async () => {
    const d = await fake();
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['{ runsOrError { ... on Runs { results { runId pipelineRunId } } } }', {}, /Cannot query field "pipelineRunId" on type "Run"/],
      ['{ runsOrError { results { runId } } }', {}, /Cannot query field "results" on type "RunsOrError"/],
      ['{ runsOrError(statuses: [FAILURE]) { __typename } }', {}, /Unknown argument "statuses"/],
      ['{ runOrError { __typename } }', {}, /argument "runId" of type "ID!" is required/],
      ['{ logsForRun(runId: "x") { ... on Run { runId } } }', {}, /can never be of type "Run"/],
      ['query Q($f: RunsFilter) { runsOrError(filter: $f) { __typename } }', { f: { status: 'FAILURE' } }, /Field "status" is not defined by type "RunsFilter"/],
      ['query Q($f: RunsFilter) { runsOrError(filter: $f) { __typename } }', { f: { statuses: ['FAILED'] } }, /RunStatus cannot represent/],
      ['query Q($f: RunsFilter) { runsOrError(filter: $f) { __typename } }', { f: { updatedAfter: '2024-01-01' } }, /Float cannot represent/],
      ['query Q($id: String!) { runOrError(runId: $id) { __typename } }', { id: 'x' }, /of type "String!" used in position expecting type "ID!"/],
    ];
    for (const [query, variables, want] of cases) {
      const r = await post(d, query, variables);
      expect(r.status, query).toBe(400);
      expect(r.body.errors?.[0]?.message, query).toMatch(want);
    }
  });

  it("accepts the watcher's own queries", async () => {
    const d = await fake();
    const run = failedRun();
    d.add(run);
    const runs = await post(d, DAGSTER_QUERIES.runs, { filter: { statuses: ['FAILURE'], updatedAfter: 1 }, cursor: null, limit: 10 });
    expect(runs.status).toBe(200);
    expect(JSON.stringify(runs.body.data)).toContain(run.runId);
    const steps = await post(d, DAGSTER_QUERIES.steps, { runId: run.runId });
    expect(steps.body.errors).toBeUndefined();
    const events = await post(d, DAGSTER_QUERIES.events, { runId: run.runId, afterCursor: null, limit: 2 });
    expect(events.body.errors).toBeUndefined();
    expect(events.body.data).toMatchObject({ logsForRun: { __typename: 'EventConnection', hasMore: true } });
  });
});

describe('DagsterClient', () => {
  it('reads a backlog larger than one page, oldest first, without skipping or repeating', async () => {
    const d = await fake();
    // Storage order (creation) differs from failure order: run i failed at a shuffled time.
    const order = Array.from({ length: 23 }, (_, i) => (i * 7) % 23);
    const runs = order.map((k, i) => failedRun({ runId: `run-${String(i).padStart(2, '0')}`, ago: 1000 - k * 10 }));
    d.add(...runs, { ...failedRun({ runId: 'succeeded', ago: 5 }), status: 'SUCCESS' }, failedRun({ runId: 'too-old', ago: 5000 }));
    const client = new DagsterClient({ url: d.url + '/', pageSize: 5 });
    const got = await client.failedRunsSince(secondsAgo(2000));
    expect(got.map((r) => r.runId).sort()).toEqual(runs.map((r) => r.runId).sort());
    const times = got.map((r) => r.updateTime!);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(d.count('RunnerWatcherFailedRuns')).toBe(5); // 23 runs in pages of 5
    expect(got[0]).toMatchObject({ jobName: 'nightly_job', repositoryOrigin: { repositoryLocationName: 'data_platform' }, status: 'FAILURE' });
  });

  it('uses the strict updatedAfter bound', async () => {
    const d = await fake();
    const at = secondsAgo(100);
    d.add(failedRun({ runId: 'at', updateTime: at }), failedRun({ runId: 'after', updateTime: at + 0.001 }));
    const got = await new DagsterClient({ url: d.url }).failedRunsSince(at);
    expect(got.map((r) => r.runId)).toEqual(['after']);
  });

  it("reads a run's steps and failure events across event pages", async () => {
    const d = await fake();
    const run = failedRun();
    run.events = [
      ...Array.from({ length: 7 }, (_, i) => ({ type: 'LogMessageEvent' as const, message: `line ${i}` })),
      { type: 'ExecutionStepFailureEvent', stepKey: 'a', error: { message: 'boom', className: 'RuntimeError', chain: [{ message: 'root cause' }] } },
      { type: 'RunFailureEvent', message: 'Execution failed.' },
    ];
    d.add(run);
    const detail = await new DagsterClient({ url: d.url, eventPageSize: 3 }).runDetail(run.runId);
    expect(detail.found).toBe(true);
    expect(detail.steps.map((s) => s.status)).toEqual(['FAILURE', 'SKIPPED']);
    expect(detail.stepFailures).toEqual([{ stepKey: 'a', message: 'Execution of step "a" failed.', error: { message: 'boom', className: 'RuntimeError', errorChain: [{ isExplicitLink: true, error: { message: 'root cause', className: null } }] } }]);
    expect(detail.runFailure).toEqual({ message: 'Execution failed.', error: null });
    // 9 events in pages of 3: the third page is full, and Dagster's hasMore only says so, so a fourth (empty) one is read.
    expect(d.count('RunnerWatcherRunEvents')).toBe(4);
    expect(await new DagsterClient({ url: d.url }).runDetail('gone')).toMatchObject({ found: false });
  });

  it('sends the bearer token, and says what went wrong without it', async () => {
    const d = await fake({ token: 's3cr3t-dagster-token' });
    await expect(new DagsterClient({ url: d.url }).failedRunsSince(1)).rejects.toMatchObject({ kind: 'http', message: expect.stringMatching(/HTTP 401.*dagster\.token/) });
    await new DagsterClient({ url: d.url, token: 's3cr3t-dagster-token' }).failedRunsSince(1);
    expect(d.requests.at(-1)!.authorization).toBe('Bearer s3cr3t-dagster-token');
  });

  it('knows Dagster+ by its host, or by `cloud`, and posts to the deployment', () => {
    const c = new DagsterClient({ url: 'https://acme.dagster.cloud/prod/', token: 't' });
    expect(c.cloud).toBe(true);
    expect(c.endpoint).toBe('https://acme.dagster.cloud/prod/graphql');
    expect(isDagsterCloud('https://ACME.dagster.cloud/staging')).toBe(true);
    expect(isDagsterCloud('https://dagster.cloud.example.org/prod')).toBe(false);
    expect(isDagsterCloud('https://notdagster.cloud/prod')).toBe(false);
    expect(new DagsterClient({ url: 'https://pipelines.odl.mit.edu' }).cloud).toBe(false);
    expect(new DagsterClient({ url: 'https://proxy.example.org/prod', cloud: true }).cloud).toBe(true);
  });

  it('turns every kind of failure into a DagsterError', async () => {
    const d = await fake();
    const client = new DagsterClient({ url: d.url, timeoutMs: 300 });
    d.script.push({ http: 502 });
    await expect(client.failedRunsSince(1)).rejects.toMatchObject({ kind: 'http', message: expect.stringContaining('HTTP 502') });
    d.script.push({ pythonError: 'sqlalchemy.exc.OperationalError: could not connect to server' });
    await expect(client.failedRunsSince(1)).rejects.toMatchObject({ kind: 'dagster', message: expect.stringContaining('PythonError for runsOrError: sqlalchemy') });
    d.script.push({ graphqlError: 'Something broke' });
    await expect(client.failedRunsSince(1)).rejects.toMatchObject({ kind: 'graphql', message: expect.stringContaining('Something broke') });
    d.script.push({ hang: true });
    await expect(client.failedRunsSince(1)).rejects.toMatchObject({ kind: 'timeout' });
    await d.stop();
    const err = await client.failedRunsSince(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DagsterError);
    expect(err).toMatchObject({ kind: 'unreachable', message: expect.stringMatching(/^could not reach Dagster \((ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET)\)$/) });
    await d.restart();
    await expect(client.failedRunsSince(1)).resolves.toEqual([]);
  });
});
