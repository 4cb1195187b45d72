/**
 * A rolling upgrade of `runner serve`: SIGTERM while a step runs as a Kubernetes Job. The
 * stopping serve hands the Job over (no DELETE reaches the API, the Job, its pod and its
 * Secret keep running, the run stays unfinished and no reaper marks it failed); the next
 * serve on the same RUNNER_HOME takes the run up, follows the Job from the last recorded
 * line (nothing lost, nothing repeated, also what the pod printed while no serve ran),
 * runs the downstream step when the Job succeeds and ends the run with its real status:
 * `success`, or `failure` with the Slack alert when the Job fails or vanished meanwhile.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { cliEntry, runCli } from '../execution/cli-entry.js';
import { query, startServe, waitFor, type ServeProc } from '../serve/proc.js';
import { startFakeKubernetes, type FakeKubernetes, type PodContext, type PodScript } from '../support/fake-kubernetes/index.js';
import { FakeSlack } from '../support/fake-slack.js';

let api: FakeKubernetes;
let slack: FakeSlack;
let base: string;
let script: (ctx: PodContext) => PodScript;
const serves: ServeProc[] = [];
const UI_TOKEN = 'handover-ui-token';
const keyOf = (ctx: PodContext) => ctx.pod.metadata!.annotations!['runner.dev/asset-key']!;

beforeAll(async () => {
  api = await startFakeKubernetes({ script: (ctx) => script(ctx), deleteGraceMs: 50 });
  slack = await FakeSlack.start();
  base = mkdtempSync(path.join(tmpdir(), 'k8s-handover-'));
  await cliEntry();
}, 120_000);

afterEach(async () => {
  for (const s of serves.splice(0)) {
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await s.exited;
  }
});

afterAll(async () => {
  await api?.close();
  await slack?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

/** A project whose schedule `once` fires a few seconds from now: `ingest/load` (a long Job), then `ingest/report`. */
async function project(name: string) {
  const root = path.join(base, name);
  const dir = path.join(root, 'pipelines');
  mkdirSync(dir, { recursive: true });
  const at = new Date(Date.now() + 3000);
  writeFileSync(
    path.join(dir, 'p.yaml'),
    YAML.stringify({
      // A namespace per project: each test's serve reaps the Jobs its store does not know.
      environments: { default: 'k8s', k8s: { kubernetes: { namespace: name, image: 'busybox:1.36' } } },
      assets: [
        { key: 'ingest/load', handler: 'command', config: { run: ['sleep', '57600'] } },
        { key: 'ingest/report', deps: ['ingest/load'], handler: 'command', config: { run: ['echo', 'report'] } },
      ],
      schedules: [{ name: 'once', cron: `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`, timezone: 'UTC', select: 'ingest/*' }],
      notifications: [{ name: 'slack', on: ['run_failure'], slack: { webhook: '${env:TEST_SLACK_WEBHOOK}' } }],
    }),
  );
  const env = { RUNNER_HOME: path.join(root, 'home'), KUBECONFIG: api.kubeconfig(root, name), TEST_SLACK_WEBHOOK: slack.url, RUNNER_UI_TOKEN: UI_TOKEN };
  const cli = async (args: string[]) => runCli([...args, '-p', dir], { cwd: root, env });
  expect((await cli(['schedule', 'start', 'once'])).code).toBe(0);
  const serve = async () => {
    const s = await startServe(root, ['-p', dir, '--grace', '1s'], env);
    serves.push(s);
    return s;
  };
  const logOf = (key: string) => {
    const logs = path.join(env.RUNNER_HOME, 'logs');
    if (!existsSync(logs)) return '';
    const run = readdirSync(logs)[0];
    const f = run ? path.join(logs, run, `${key.replace('/', '__')}.log`) : '';
    return f && existsSync(f) ? readFileSync(f, 'utf8') : '';
  };
  const show = async () => {
    const runs = JSON.parse((await cli(['runs', '--json'])).stdout).runs;
    return runs.length === 0 ? undefined : JSON.parse((await cli(['show', runs[0].id, '--json'])).stdout);
  };
  return { ns: name, root, dir, env, cli, serve, logOf, show };
}

/** Starts serve, waits for the load Job's first lines to be recorded, SIGTERMs serve; returns the pod's key. */
async function handOver(p: Awaited<ReturnType<typeof project>>): Promise<{ podKey: string; jobName: string }> {
  const first = await p.serve();
  await waitFor('the load step to record its first lines', () => p.logOf('ingest/load').includes('line 2'), 30_000);
  const before = api.requests.length;
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  expect(p.logOf('ingest/load')).toContain('keeps running, the next serve follows it');
  // Handed over, not canceled: nothing was deleted, the Job, its pod and its Secret run on.
  expect(api.requests.slice(before).filter((q) => q.method === 'DELETE')).toEqual([]);
  const pod = [...api.cluster.pods.entries()].find(([, x]) => x.metadata!.annotations!['runner.dev/asset-key'] === 'ingest/load' && x.status?.phase === 'Running');
  expect(pod).toBeDefined();
  const jobName = pod![1].metadata!.labels!['job-name']!;
  expect(api.cluster.jobs.has(`${p.ns}/${jobName}`)).toBe(true);
  expect(api.cluster.secrets.has(`${p.ns}/${jobName}`)).toBe(true);
  // No runner owns the run now, and none marks it failed (`runner show` opens the store, which reaps dead runners' runs).
  const shown = await p.show();
  expect(shown.status).toBe('started');
  expect(shown.steps.map((s: any) => [s.key, s.status])).toEqual([
    ['ingest/load', 'running'],
    ['ingest/report', 'pending'],
  ]);
  expect(query<{ n: number }>(p.env.RUNNER_HOME, 'SELECT COUNT(*) AS n FROM runs WHERE handed_over_at IS NOT NULL')[0]!.n).toBe(1);
  return { podKey: pod![0], jobName };
}

const lines = (log: string, text: string) => log.split('\n').filter((l) => l === text).length;

type Project = Awaited<ReturnType<typeof project>>;

/** Starts serve and waits until it says it re-attached to a handed-over Job (`which` names it in the wait's message). */
async function serveReattached(p: Project, which: string): Promise<Awaited<ReturnType<Project['serve']>>> {
  const s = await p.serve();
  await waitFor(`the ${which} serve to re-attach`, () => s.lines.some((l) => l.includes('re-attached to Job')), 20_000);
  return s;
}

/** Polls `runner show` until the run has ended (and, with `withAlert`, its alert is recorded); returns the shown run. */
function runEnded(p: Project, withAlert = false): Promise<any> {
  return waitFor('the run to end', async () => {
    const s = await p.show();
    return s && s.status !== 'started' && (!withAlert || s.alert) ? s : undefined;
  }, 30_000, 200);
}

describe('runner serve hands its Kubernetes Jobs over on SIGTERM; the next serve carries the runs on', () => {
  it('resumes the run: the Job is followed to its end, the downstream step runs, the run succeeds', async () => {
    script = (ctx) => (keyOf(ctx) === 'ingest/load' ? { lines: ['line 1', 'line 2'], forever: true } : { lines: ['report done'] });
    const p = await project('success');
    const { podKey } = await handOver(p);
    api.cluster.write(podKey, ['while no serve ran']);
    const received = slack.received.length;

    const next = await serveReattached(p, 'next');
    api.cluster.write(podKey, ['after the restart']);
    api.cluster.release(podKey, ['load complete']);
    const shown = await runEnded(p);
    expect(shown.status).toBe('success');
    expect(shown.error).toBeNull();
    expect(shown.steps.map((s: any) => [s.key, s.status])).toEqual([
      ['ingest/load', 'success'],
      ['ingest/report', 'success'],
    ]);
    expect(shown.steps[0].metadata).toMatchObject({ reattached: true });
    const log = p.logOf('ingest/load');
    for (const l of ['line 1', 'line 2', 'while no serve ran', 'after the restart', 'load complete']) expect(lines(log, l), `${l} in\n${log}`).toBe(1);
    const order = ['line 1', 'line 2', 'while no serve ran', 'after the restart', 'load complete'].map((l) => log.indexOf(l));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The new serve asked for the log from the second of the last recorded line, not from the start.
    const resumed = api.requests.filter((q) => q.path.endsWith('/log') && q.path.includes('/namespaces/success/') && q.query.sinceTime);
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed[0]!.query.sinceTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(p.logOf('ingest/report')).toContain('report done');
    // The report's Job was created by the new serve, after the load's pod succeeded.
    expect(api.cluster.started.filter((c) => keyOf(c) === 'ingest/report' && c.job.metadata!.labels!['runner.dev/run-id'] === shown.id)).toHaveLength(1);
    expect(slack.received.length).toBe(received); // no failure, no alert
    expect(api.requests.filter((q) => q.method === 'DELETE' && q.path.includes('/namespaces/success/'))).toEqual([]);
  }, 120_000);

  it('a serve that took a run up and stops hands it over again; the one after finishes it', async () => {
    script = (ctx) => (keyOf(ctx) === 'ingest/load' ? { lines: ['line 1', 'line 2'], forever: true } : { lines: ['report done'] });
    const p = await project('twice');
    const { podKey } = await handOver(p);
    const second = await serveReattached(p, 'second');
    api.cluster.write(podKey, ['seen by the second serve']);
    await waitFor('the second serve to record it', () => p.logOf('ingest/load').includes('seen by the second serve'), 10_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect((await p.show()).status).toBe('started');
    expect(query<{ n: number }>(p.env.RUNNER_HOME, 'SELECT COUNT(*) AS n FROM runs WHERE handed_over_at IS NOT NULL')[0]!.n).toBe(1);
    const third = await serveReattached(p, 'third');
    api.cluster.release(podKey, ['load complete']);
    const shown = await runEnded(p);
    expect(shown.status).toBe('success');
    expect(shown.steps.map((s: any) => s.status)).toEqual(['success', 'success']);
    const log = p.logOf('ingest/load');
    for (const l of ['line 1', 'line 2', 'seen by the second serve', 'load complete']) expect(lines(log, l), `${l} in\n${log}`).toBe(1);
    expect(api.requests.filter((q) => q.method === 'DELETE' && q.path.includes('/namespaces/twice/'))).toEqual([]);
  }, 120_000);

  it('a run carried on after the restart can be canceled from the web UI: its Job is deleted, the run ends canceled', async () => {
    script = (ctx) => (keyOf(ctx) === 'ingest/load' ? { lines: ['line 1', 'line 2'], forever: true } : { lines: ['report done'] });
    const p = await project('cancel');
    const { jobName } = await handOver(p);
    const next = await serveReattached(p, 'next');
    const { id } = await p.show();
    const res = await fetch(`${next.url}/api/runs/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${UI_TOKEN}` } });
    expect(res.status).toBe(202);
    const shown = await runEnded(p);
    expect(shown.status).toBe('canceled');
    expect(shown.steps.map((s: any) => s.status)).toEqual(['canceled', 'canceled']);
    // A cancel, not a handover: the Job is deleted (with its pod and Secret).
    expect(api.requests.some((q) => q.method === 'DELETE' && q.path.includes('/namespaces/cancel/') && q.path.endsWith(`/jobs/${jobName}`))).toBe(true);
    await waitFor('the Job to be gone', () => !api.cluster.jobs.has(`cancel/${jobName}`), 10_000);
    expect(api.cluster.started.filter((c) => keyOf(c) === 'ingest/report' && c.job.metadata!.labels!['runner.dev/run-id'] === id)).toHaveLength(0);
    // Cancelling it again: it no longer runs here.
    expect((await fetch(`${next.url}/api/runs/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${UI_TOKEN}` } })).status).toBe(409);
  }, 120_000);

  it('a re-attached Job that fails fails the run, skips the downstream step and sends the alert', async () => {
    script = (ctx) => (keyOf(ctx) === 'ingest/load' ? { lines: ['line 1', 'line 2'], forever: true } : { lines: ['report done'] });
    const p = await project('failure');
    const { podKey } = await handOver(p);
    const accepted = slack.accepted.length;
    const next = await serveReattached(p, 'next');
    api.cluster.release(podKey, ['load broke'], 3);
    const shown = await runEnded(p, true);
    expect(shown.status).toBe('failure');
    expect(shown.steps.map((s: any) => [s.key, s.status])).toEqual([
      ['ingest/load', 'failure'],
      ['ingest/report', 'skipped'],
    ]);
    expect(shown.steps[0].error).toContain('exit code 3');
    expect(shown.alert.status).toBe('sent');
    expect(slack.accepted.length).toBe(accepted + 1);
    expect(JSON.stringify(slack.accepted.at(-1))).toContain('ingest/load');
    expect(p.logOf('ingest/load')).toContain('load broke');
    expect(api.cluster.started.some((c) => keyOf(c) === 'ingest/report' && c.job.metadata!.labels!['runner.dev/run-id'] === shown.id)).toBe(false);
  }, 120_000);

  it('a handed-over run that the pipeline files no longer plan fails in plain words, and its Job is deleted', async () => {
    script = (ctx) => (keyOf(ctx) === 'ingest/load' ? { lines: ['line 1', 'line 2'], forever: true } : { lines: ['report done'] });
    const p = await project('replanned');
    const { jobName } = await handOver(p);
    // While no serve ran, the asset was renamed: the run's steps no longer exist.
    const file = path.join(p.dir, 'p.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('ingest/load', 'ingest/loader'));
    const next = await p.serve();
    const shown = await runEnded(p);
    expect(shown.status).toBe('failure');
    expect(shown.error).toContain('cannot carry the run on after the restart');
    expect(shown.steps.map((s: any) => [s.key, s.status])).toEqual([
      ['ingest/load', 'failure'],
      ['ingest/report', 'canceled'],
    ]);
    // Nothing follows its Job now: it is deleted, not left running to its deadline.
    await waitFor('the Job to be deleted', () => !api.cluster.jobs.has(`replanned/${jobName}`), 20_000);
    expect(api.requests.some((q) => q.method === 'DELETE' && q.path.endsWith(`/namespaces/replanned/jobs/${jobName}`))).toBe(true);
    await waitFor('serve to log it', () => next.lines.some((l) => l.includes(`reaped Job replanned/${jobName}`)), 10_000);
  }, 120_000);

  it('a Job that vanished while no serve ran fails its step in plain words, and the run fails with the alert', async () => {
    script = (ctx) => (keyOf(ctx) === 'ingest/load' ? { lines: ['line 1', 'line 2'], forever: true } : { lines: ['report done'] });
    const p = await project('vanished');
    const { jobName } = await handOver(p);
    api.cluster.deleteJob(p.ns, jobName, 'Background'); // someone deleted it (or its TTL ran out)
    await waitFor('its pods to go', () => ![...api.cluster.pods.values()].some((x) => x.metadata!.labels!['job-name'] === jobName), 10_000);
    const accepted = slack.accepted.length;
    await p.serve();
    const shown = await runEnded(p, true);
    expect(shown.status).toBe('failure');
    expect(shown.steps.map((s: any) => [s.key, s.status])).toEqual([
      ['ingest/load', 'failure'],
      ['ingest/report', 'skipped'],
    ]);
    expect(shown.steps[0].error).toBe(`Job vanished/${jobName} is gone: it was deleted, or removed by its TTL, while no runner followed it; its result is unknown`);
    expect(shown.alert.status).toBe('sent');
    expect(slack.accepted.length).toBe(accepted + 1);
  }, 120_000);
});
