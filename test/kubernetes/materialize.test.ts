/**
 * End to end through the built CLI: `runner materialize --select 'openmetadata/*' --env k8s`
 * runs every step as a Job on the API double (the kubelet part resolves the Secret
 * references, as a node would); the right image and sub-command per asset, an evicted
 * pod replaced within its step, no secret value in any request but the Secrets' own
 * bodies, nor in the output or the store. Cancel and timeout delete the Jobs and wait
 * until their pods are gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { cliEntry, runCli, startCli } from '../execution/cli-entry.js';
import { fakeJwt, startFakeOpenMetadataServer, type FakeOpenMetadataServer } from '../support/fake-openmetadata/index.js';
import { startFakeKubernetes, type FakeKubernetes, type PodContext, type PodScript } from '../support/fake-kubernetes/index.js';
import { pipelinesWithKubernetes } from './helpers.js';

const JWT = fakeJwt('k8s');
const SECRETS = { TRINO_PASSWORD: 'trino-Pa55-k8s-value', SUPERSET_PASSWORD: 'superset-Pa55-k8s-value', REDASH_API_KEY: 'redash-key-k8s-value' };
const ALL_SECRETS = [JWT, ...Object.values(SECRETS)];
let api: FakeKubernetes;
let om: FakeOpenMetadataServer;
let root: string;
let pipelines: string;
let home: string;
let script: (ctx: PodContext) => PodScript;
const outputs: string[] = [];

const info = (m: string) => `[2026-12-03 02:00:00] INFO     {metadata.Utils:logger:181} - ${m}`;
const summary = (steps: string[]) => [...steps.flatMap((s) => [info(`Workflow ${s} Summary:`), info('Processed records: 12'), info('Updated records: 0'), info('Warnings: 0'), info('Errors: 0'), info('Success %: 100.0')]), info('Workflow Success %: 100.0'), info('Workflow finished in time: 1.5s')];
const keyOf = (ctx: PodContext) => ctx.pod.metadata!.annotations!['runner.dev/asset-key']!;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { RUNNER_HOME: home, RUNNER_ENV: 'k8s', KUBECONFIG: api.kubeconfig(root), OPENMETADATA_JWT_TOKEN: JWT, ...SECRETS, DBT_TARGET_DIR: path.join(root, 'dbt-target'), ...extra };
}

async function cli(args: string[], extra: Record<string, string> = {}) {
  const r = await runCli(args, { cwd: root, env: env(extra) });
  outputs.push(r.stdout, r.stderr);
  return r;
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

beforeAll(async () => {
  om = await startFakeOpenMetadataServer({ jwt: JWT, version: '1.7.7' });
  api = await startFakeKubernetes({ script: (ctx) => script(ctx), deleteGraceMs: 100 });
  root = mkdtempSync(path.join(tmpdir(), 'k8s-e2e-'));
  home = path.join(root, 'home');
  pipelines = pipelinesWithKubernetes(root, { serverUrl: om.url, retryDelay: '50ms' });
  mkdirSync(path.join(root, 'dbt-target'));
  for (const f of ['manifest.json', 'catalog.json', 'run_results.json']) writeFileSync(path.join(root, 'dbt-target', f), '{}');
  await cliEntry();
}, 120_000);

afterAll(async () => {
  await api?.close();
  await om?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('runner materialize on Kubernetes (API double)', () => {
  it('runs the openmetadata/* selection as Jobs with the ingestion image and each sub-command, secrets by reference only', async () => {
    script = (ctx) => {
      const sub = ctx.pod.spec!.containers[0]!.command![1]!;
      if (keyOf(ctx) === 'openmetadata/trino/metadata' && ctx.index === 0) return { lines: ['starting'], evict: true };
      return { lines: [`running metadata ${sub}`, ...summary(sub === 'profile' ? ['OpenMetadata Source', 'Profiler', 'Metadata Sink'] : ['Source', 'Sink'])], intervalMs: 2 };
    };
    const r = await cli(['materialize', '-p', pipelines, '--select', 'openmetadata/*', '--output', 'plain']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const started = api.cluster.started;
    expect(started).toHaveLength(13); // 12 steps, one pod evicted and replaced
    const byKey = new Map(started.map((c) => [keyOf(c), c]));
    expect([...byKey.keys()].sort()).toHaveLength(12);
    for (const [key, c] of byKey) {
      const container = c.pod.spec!.containers[0]!;
      expect(container.image).toBe('docker.getcollate.io/openmetadata/ingestion:1.7.7');
      expect(container.command).toEqual(['metadata', key.endsWith('/profiling') ? 'profile' : 'ingest', '-c', '/runner/files/workflow.yaml']);
      // What the kubelet resolved from the Secret: the JWT and the workflow with the real password.
      expect(c.env.RUNNER_OPENMETADATA_JWT).toBe(JWT);
      const wf = YAML.parse(c.files['/runner/files/workflow.yaml']!);
      expect(wf.workflowConfig.openMetadataServerConfig.securityConfig.jwtToken).toBe('${RUNNER_OPENMETADATA_JWT}');
      expect(wf.workflowConfig.openMetadataServerConfig.hostPort).toBe(om.url);
    }
    expect(byKey.get('openmetadata/trino/profiling')!.pod.spec!.containers[0]!.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '4Gi' } });
    expect(YAML.parse(byKey.get('openmetadata/trino/metadata')!.files['/runner/files/workflow.yaml']!).source.serviceConnection.config.authType.password).toBe(SECRETS.TRINO_PASSWORD);
    // A dependent's Job is created only after its upstream's pod succeeded.
    const rvOf = (pred: (e: any) => boolean) => api.cluster.history.find(pred)?.rv ?? Infinity;
    const succeeded = (key: string) => rvOf((e) => e.kind === 'Pod' && e.object.metadata.annotations['runner.dev/asset-key'] === key && e.object.status?.phase === 'Succeeded');
    const created = (key: string) => rvOf((e) => e.kind === 'Job' && e.type === 'ADDED' && e.object.metadata.annotations['runner.dev/asset-key'] === key);
    expect(created('openmetadata/trino/lineage')).toBeGreaterThan(succeeded('openmetadata/trino/metadata'));
    expect(created('openmetadata/dbt/lineage')).toBeGreaterThan(succeeded('openmetadata/dbt/metadata'));
    // No secret value in any request but the Secrets' own bodies.
    for (const q of api.requests) {
      if (q.method === 'POST' && q.path.endsWith('/secrets')) continue;
      for (const s of ALL_SECRETS) expect(q.body + JSON.stringify(q.query), `${q.method} ${q.path}`).not.toContain(s);
    }
    expect(api.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/secrets')).some((q) => q.body.includes(JWT))).toBe(true);
    const shown = JSON.parse((await cli(['show', JSON.parse((await cli(['runs', '--json', '-p', pipelines])).stdout).runs[0].id, '--json', '-p', pipelines])).stdout);
    const trino = shown.steps.find((s: any) => s.key === 'openmetadata/trino/metadata');
    expect(trino.metadata).toMatchObject({ command: 'metadata ingest', records_processed: 12, disruptions: 1, node: 'node-1' });
    expect(trino.metadata.kubernetes_job).toMatch(/^data\/r-openmetadata-trino-metadata-1-[0-9a-f]{10}$/);
    const log = (await cli(['logs', shown.id, 'openmetadata/trino/metadata', '-p', pipelines])).stdout;
    expect(log).toContain('starting');
    expect(log).toContain('was disrupted (Evicted');
    expect(log).toContain('Workflow Success %: 100.0');
  }, 180_000);

  it('cancels on Ctrl-C: the Jobs are deleted and their pods are gone when the runner exits', async () => {
    script = () => ({ lines: ['working'], forever: true });
    const before = api.requests.length;
    const run = await startCli(['materialize', '-p', pipelines, '--select', 'openmetadata/trino/metadata or openmetadata/dbt/metadata', '--output', 'plain'], { cwd: root, env: env() });
    const running = () => [...api.cluster.pods.values()].filter((p) => p.status?.phase === 'Running').length;
    const t0 = Date.now();
    while (running() < 2 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50));
    expect(running()).toBe(2);
    run.child.kill('SIGINT');
    const { code } = await run.exit;
    outputs.push(run.stdout(), run.stderr());
    expect(code, run.stderr()).toBe(130);
    // Pods of earlier tests' Jobs stay (ended, until their TTL), as in a cluster; none of this run is left.
    expect([...api.cluster.pods.values()].filter((p) => p.status?.phase === 'Running' || p.status?.phase === 'Pending')).toEqual([]);
    expect([...api.cluster.jobs.values()].filter((j) => !j.status?.conditions?.length)).toEqual([]);
    const deletes = api.requests.slice(before).filter((q) => q.method === 'DELETE');
    expect(deletes).toHaveLength(2);
    for (const d of deletes) expect(d.query.propagationPolicy).toBe('Background');
  }, 120_000);

  it('times a step out: its Job is deleted and the step fails with the timeout', async () => {
    script = () => ({ lines: ['slow'], forever: true });
    const dir = path.join(root, 'timeout');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'p.yaml'),
      YAML.stringify({
        environments: { default: 'k8s', k8s: { kubernetes: { namespace: 'data', image: 'busybox:1.36' } } },
        secrets: { api_token: { env: 'API_TOKEN' } },
        assets: [{ key: 'slow/step', handler: 'command', timeout: '3s', config: { run: ['sleep', '3600'], env: { API_TOKEN: '${secret:api_token}', MODE: 'plain' } } }],
      }),
    );
    const before = api.requests.length;
    const r = await cli(['materialize', '-p', dir, '--select', 'slow/step', '--output', 'plain'], { API_TOKEN: 'api-token-k8s-value' });
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stdout + r.stderr).toContain('timed out after 3.0s');
    expect([...api.cluster.pods.values()].filter((p) => p.status?.phase === 'Running' || p.status?.phase === 'Pending')).toEqual([]);
    const pod = api.cluster.started.at(-1)!;
    expect(pod.env).toEqual({ API_TOKEN: 'api-token-k8s-value', MODE: 'plain' });
    expect(pod.pod.spec!.containers[0]!.env).toEqual([{ name: 'MODE', value: 'plain' }, { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: pod.job.metadata!.name, key: 'env.API_TOKEN' } } }]);
    for (const q of api.requests.slice(before)) if (!(q.method === 'POST' && q.path.endsWith('/secrets'))) expect(q.body).not.toContain('api-token-k8s-value');
  }, 120_000);

  it('shows no secret value in the output or the store', () => {
    const stored = files(home).map((f) => readFileSync(f).toString('latin1')).join('\n');
    for (const s of [...ALL_SECRETS, 'api-token-k8s-value']) {
      expect(outputs.join('\n')).not.toContain(s);
      expect(stored).not.toContain(s);
    }
  });
});
