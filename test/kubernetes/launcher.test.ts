/**
 * The Kubernetes launcher against the API double: the Job's life from creation to its
 * end, live logs across dropped follow streams, the pod's end in plain words, evictions
 * followed to the replacement pod, cancel and the runner's own failures deleting the Job
 * (propagation Background) and waiting for its pods, retries of 429/5xx, 410 on watch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubernetesLauncher } from '../../src/launchers/kubernetes/launcher.js';
import type { CommandSpec, LaunchResult } from '../../src/launchers/spec.js';
import type { ResolvedEnvironment } from '../../src/definitions/environment.js';
import type { KubernetesSettingsDef } from '../../src/definitions/model.js';
import { startFakeKubernetes, type FakeKubernetes, type FakeKubernetesOptions } from '../support/fake-kubernetes/index.js';
import { asset } from './helpers.js';
import { buildStepObjects } from '../../src/launchers/kubernetes/manifest.js';

const SECRET = 's3cr3t-value-for-the-pod';
const spec: CommandSpec = { argv: ['sh', '-c', 'work'], env: { MODE: 'test' }, secretEnv: { TOKEN: SECRET }, files: [{ name: 'conf.yaml', content: `token: ${SECRET}\n` }] };
let api: FakeKubernetes | undefined;
let dir: string | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function setup(o: FakeKubernetesOptions, settings: Partial<KubernetesSettingsDef> = {}) {
  api = await startFakeKubernetes(o);
  dir = mkdtempSync(path.join(tmpdir(), 'k8s-launch-'));
  const env = { name: 'k8s', vars: {}, openmetadata: {}, kubernetes: { image: 'busybox:1.36', resources: { limits: { memory: '512Mi' } }, ...settings } } as ResolvedEnvironment & { kubernetes: KubernetesSettingsDef };
  const launcher = new KubernetesLauncher(env, { processEnv: { KUBECONFIG: api.kubeconfig(dir) }, reconnectMs: 20, pollMs: 20 });
  return launcher;
}

async function run(launcher: KubernetesLauncher, o: { signal?: AbortSignal; attempt?: number; key?: string } = {}): Promise<{ r: LaunchResult; lines: string[]; runner: string[] }> {
  const lines: string[] = [];
  const runner: string[] = [];
  const r = await launcher.run(spec, {
    runId: 'run-1',
    asset: asset(o.key ?? 'team/job'),
    attempt: o.attempt ?? 1,
    signal: o.signal ?? new AbortController().signal,
    log: (line, stream) => (stream === 'stderr' ? runner : lines).push(line),
  });
  return { r, lines, runner };
}

const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

describe('KubernetesLauncher', () => {
  it('creates the Job suspended, its Secret owned by it, resumes it, and streams every line once across dropped streams', async () => {
    const lines = [...numbered(5), ['burst a', 'burst b', 'burst c'], ...numbered(12).slice(5)];
    const launcher = await setup({ script: () => ({ lines, intervalMs: 15 }), dropFollowAfterLines: 3, dropFollowAfterMs: 60 });
    const { r, lines: got, runner } = await run(launcher);
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, exitCode: 0 });
    expect(got).toEqual([...numbered(5), 'burst a', 'burst b', 'burst c', ...numbered(12).slice(5)]);
    const logReqs = api!.requests.filter((q) => q.path.endsWith('/log'));
    expect(logReqs.length).toBeGreaterThan(2); // it reconnected
    expect(logReqs.slice(1).some((q) => q.query.sinceTime)).toBe(true);
    expect(runner[0]).toMatch(/^\[runner\] Job data\/r-team-job-1-[0-9a-f]{10} started \(image busybox:1\.36\)$/);
    const [create, secret, patch] = api!.requests.filter((q) => q.method !== 'GET');
    expect(create).toMatchObject({ method: 'POST', path: '/apis/batch/v1/namespaces/data/jobs' });
    expect(JSON.parse(create!.body).spec.suspend).toBe(true);
    expect(secret).toMatchObject({ method: 'POST', path: '/api/v1/namespaces/data/secrets' });
    const job = api!.cluster.jobs.get(`data/${JSON.parse(create!.body).metadata.name}`)!;
    expect(JSON.parse(secret!.body).metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name, uid: job.metadata!.uid }]);
    expect(patch).toMatchObject({ method: 'PATCH', contentType: 'application/merge-patch+json' });
    // The kubelet resolved the secret from the Secret: the value reached the container by reference.
    expect(api!.cluster.started[0]!.env).toEqual({ MODE: 'test', TOKEN: SECRET });
    expect(api!.cluster.started[0]!.files).toEqual({ '/runner/files/conf.yaml': `token: ${SECRET}\n` });
    // The secret is in the Secret's body and in no other request.
    for (const q of api!.requests) if (q !== secret) expect(q.body + JSON.stringify(q.query)).not.toContain(SECRET);
    expect(r.metadata).toMatchObject({ kubernetes_job: `data/${job.metadata!.name}`, node: 'node-1' });
  });

  it('says how a pod failed: exit code, OOMKilled', async () => {
    let launcher = await setup({ script: () => ({ lines: ['working', 'boom'], exitCode: 3 }) });
    let { r, lines } = await run(launcher);
    expect(r).toMatchObject({ ok: false, exitCode: 3, error: 'exit code 3' });
    expect(lines).toEqual(['working', 'boom']);
    await api!.close();
    launcher = await setup({ script: () => ({ lines: ['allocating'], oom: true }) });
    ({ r } = await run(launcher));
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBe(137);
    expect(r.error).toMatch(/^OOMKilled: the container used more memory than its limit \(512Mi\) and was killed \(exit code 137\)/);
  });

  it('follows an evicted pod to the one the Job starts instead', async () => {
    const launcher = await setup({ script: ({ index }) => (index === 0 ? { lines: ['first try'], evict: true } : { lines: ['second try', 'done'] }) });
    const { r, lines, runner } = await run(launcher);
    expect(r).toMatchObject({ ok: true, exitCode: 0, metadata: { disruptions: 1 } });
    expect(lines).toEqual(['first try', 'second try', 'done']);
    expect(runner.some((l) => /was disrupted \(Evicted: The node was low on resource: memory\.\); the Job starts a new pod/.test(l))).toBe(true);
    expect(api!.cluster.started).toHaveLength(2);
  });

  it('fails a pod that stays Pending with the scheduler\'s reason, deleting the Job', async () => {
    const launcher = await setup({ script: () => ({ unschedulable: '0/3 nodes are available: 3 Insufficient memory.' }) }, { pending_timeout: '300ms' });
    const { r } = await run(launcher);
    expect(r.ok).toBe(false);
    expect(r.error).toBe('the pod stayed Pending for 300ms (kubernetes.pending_timeout): Unschedulable: 0/3 nodes are available: 3 Insufficient memory.');
    const del = api!.requests.find((q) => q.method === 'DELETE')!;
    expect(del.query.propagationPolicy).toBe('Background');
    expect(api!.cluster.pods.size).toBe(0);
    expect(api!.cluster.jobs.size).toBe(0);
  });

  it('fails at once on ImagePullBackOff', async () => {
    const launcher = await setup({ script: () => ({ imagePullBackOff: true }) });
    const { r } = await run(launcher);
    expect(r.error).toMatch(/^ImagePullBackOff: the image busybox:1\.36 cannot be pulled: Back-off pulling image/);
    expect(api!.cluster.pods.size).toBe(0);
  });

  it('on cancel deletes the Job with propagation Background and resolves only once its pod is gone', async () => {
    const launcher = await setup({ script: () => ({ lines: ['started'], forever: true }), deleteGraceMs: 150 });
    const ac = new AbortController();
    const p = run(launcher, { signal: ac.signal });
    while (!api!.cluster.logs.size || [...api!.cluster.logs.values()][0]!.length === 0) await new Promise((r) => setTimeout(r, 10));
    ac.abort('canceled');
    const { r } = await p;
    expect(r.ok).toBe(false);
    expect(r.error).toBe('canceled');
    expect(api!.cluster.pods.size).toBe(0);
    expect(api!.cluster.secrets.size).toBe(0); // owned by the Job: gone with it
    expect(api!.requests.find((q) => q.method === 'DELETE')!.query.propagationPolicy).toBe('Background');
  });

  it('adopts the Job of the same attempt on 409 AlreadyExists, and refuses one of another run', async () => {
    const launcher = await setup({ script: () => ({ lines: ['ok'] }) });
    const settings = { image: 'busybox:1.36' };
    const mine = buildStepObjects(spec, { runId: 'run-1', asset: asset('team/job'), attempt: 1 }, { settings, envName: 'k8s', namespace: 'data', suspend: true });
    api!.cluster.createJob('data', mine.job); // left by a runner that died right after creating it
    const { r } = await run(launcher);
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
    expect(api!.cluster.started).toHaveLength(1);
    const other = buildStepObjects(spec, { runId: 'run-1', asset: asset('team/other'), attempt: 1 }, { settings, envName: 'k8s', namespace: 'data', suspend: true });
    other.job.metadata!.labels!['runner.dev/run-id'] = 'someone-else';
    api!.cluster.createJob('data', other.job);
    const second = await run(launcher, { key: 'team/other' });
    expect(second.r.error).toMatch(/^Job data\/r-team-other-1-[0-9a-f]{10} exists and belongs to another run$/);
  });

  it('retries 429 after Retry-After and 5xx', async () => {
    const launcher = await setup({ script: () => ({ lines: ['ok'] }) });
    api!.fail('POST', /\/jobs$/, 429, { retryAfter: 0 });
    api!.fail('POST', /\/secrets$/, 503, { times: 2 });
    api!.fail('GET', /\/pods$/, 500);
    const { r } = await run(launcher);
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
    expect(api!.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/jobs'))).toHaveLength(2);
    expect(api!.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/secrets'))).toHaveLength(3);
  });

  it('lists again after 410 Gone and carries on', async () => {
    const launcher = await setup({ script: () => ({ lines: numbered(20), intervalMs: 20 }) });
    const p = run(launcher);
    while (![...api!.cluster.logs.values()].some((l) => l.length >= 5)) await new Promise((r) => setTimeout(r, 10));
    api!.compact();
    api!.dropWatches();
    const { r, lines } = await p;
    expect(r).toMatchObject({ ok: true });
    expect(lines).toEqual(numbered(20));
    const lists = api!.requests.filter((q) => q.path === '/api/v1/namespaces/data/pods' && q.query.watch !== 'true');
    expect(lists.length).toBeGreaterThanOrEqual(2);
  });

  it('fails with DeadlineExceeded when Kubernetes ends the Job at activeDeadlineSeconds', async () => {
    const launcher = await setup({ script: () => ({ lines: ['slow'], forever: true }) });
    const lines: string[] = [];
    const r = await launcher.run(spec, { runId: 'run-1', asset: asset('team/slow', { timeoutMs: 1000 }), attempt: 1, signal: new AbortController().signal, log: (l) => lines.push(l) });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^DeadlineExceeded: the Job ran longer than its activeDeadlineSeconds \(1s\)/);
  });
});
