/**
 * The Job and Secret of one step attempt, built from a command spec: the fields the
 * issue names, names and labels, resources laid over per pool and asset, secrets only by
 * reference, and every object exactly what client-node's types describe.
 */
import { describe, expect, it } from 'vitest';
import { buildStepObjects, FILE_MODE } from '../../src/launchers/kubernetes/manifest.js';
import { assetLabel, jobName } from '../../src/launchers/kubernetes/names.js';
import { stepSettings } from '../../src/launchers/kubernetes/settings.js';
import type { CommandSpec } from '../../src/launchers/spec.js';
import { K8S_SETTINGS, asset, roundTrip } from './helpers.js';

const SECRET = 'jwt-value-that-must-not-leak';
const PASSWORD = 'trino-password-value';
const spec: CommandSpec = {
  argv: ['metadata', 'profile', '-c', '/runner/files/workflow.yaml'],
  image: 'docker.getcollate.io/openmetadata/ingestion:1.7.7',
  env: { PYTHONUNBUFFERED: '1' },
  secretEnv: { RUNNER_OPENMETADATA_JWT: SECRET },
  files: [{ name: 'workflow.yaml', content: `password: ${PASSWORD}\n` }],
};
const RUN = '2b1c6f0e-8d8e-4b0a-9a57-6f3f3c1d2e10';

describe('names', () => {
  it('a Job name is deterministic, at most 63 characters, a DNS label, and differs per run and attempt', () => {
    const key = 'openmetadata/a-very-long-source-name-that-goes-on-and-on/profiling_with_underscores';
    const n = jobName(RUN, key, 1);
    expect(n).toBe(jobName(RUN, key, 1));
    expect(n.length).toBeLessThanOrEqual(63);
    expect(n).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(n).not.toBe(jobName(RUN, key, 2));
    expect(n).not.toBe(jobName('another-run', key, 1));
    expect(jobName(RUN, 'openmetadata/trino/metadata', 3)).toMatch(/^r-openmetadata-trino-metadata-3-[0-9a-f]{10}$/);
  });

  it('an asset label value is at most 63 characters and valid', () => {
    expect(assetLabel('openmetadata/trino/metadata')).toBe('openmetadata.trino.metadata');
    const long = assetLabel(`x/${'y'.repeat(100)}`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
  });
});

describe('the Job of a step attempt', () => {
  const a = asset('openmetadata/trino/profiling', { handler: 'openmetadata', pool: 'openmetadata_cli', timeoutMs: 6 * 3600_000, kubernetes: { resources: { requests: { memory: '3Gi' } } } });
  const { name, job, secret } = buildStepObjects(spec, { runId: RUN, asset: a, attempt: 2 }, { settings: K8S_SETTINGS, envName: 'k8s', namespace: 'data', suspend: true });
  const pod = job.spec!.template.spec!;
  const c = pod.containers[0]!;

  it('has the fields the runner relies on', () => {
    expect(job.spec).toMatchObject({ suspend: true, backoffLimit: 0, activeDeadlineSeconds: 21600, ttlSecondsAfterFinished: 86400 });
    expect(job.spec!.podFailurePolicy).toEqual({ rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] });
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.serviceAccountName).toBe('ingestion');
    expect(pod.nodeSelector).toEqual({ workload: 'ingestion' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'ingestion', effect: 'NoSchedule' }]);
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry' }]);
    expect(c.image).toBe(spec.image);
    expect(c.command).toEqual(spec.argv);
    expect(job.metadata).toMatchObject({ name, namespace: 'data' });
  });

  it('labels Job and pod with run id, asset and attempt, and keeps the exact key in an annotation', () => {
    const want = { 'app.kubernetes.io/managed-by': 'runner', 'runner.dev/run-id': RUN, 'runner.dev/asset': 'openmetadata.trino.profiling', 'runner.dev/attempt': '2', 'runner.dev/environment': 'k8s', team: 'data-platform' };
    expect(job.metadata!.labels).toEqual(want);
    expect(job.spec!.template.metadata!.labels).toEqual(want);
    expect(job.metadata!.annotations).toEqual({ 'runner.dev/asset-key': 'openmetadata/trino/profiling' });
  });

  it('lays resources over: environment, then pool, then asset', () => {
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '3Gi' }, limits: { memory: '4Gi' } });
    expect(stepSettings(K8S_SETTINGS, asset('x')).resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } });
  });

  it('holds no secret value: the JWT by secretKeyRef, the workflow file from a read-only 0400 Secret volume', () => {
    const text = JSON.stringify(job);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(PASSWORD);
    expect(c.env).toEqual([{ name: 'PYTHONUNBUFFERED', value: '1' }, { name: 'RUNNER_OPENMETADATA_JWT', valueFrom: { secretKeyRef: { name, key: 'env.RUNNER_OPENMETADATA_JWT' } } }]);
    expect(c.volumeMounts).toEqual([{ name: 'runner-files', mountPath: '/runner/files', readOnly: true }]);
    expect(pod.volumes).toEqual([{ name: 'runner-files', secret: { secretName: name, defaultMode: 0o400, items: [{ key: 'file.workflow.yaml', path: 'workflow.yaml', mode: 0o400 }] } }]);
    expect(FILE_MODE).toBe(256);
    expect(secret.stringData).toEqual({ 'env.RUNNER_OPENMETADATA_JWT': SECRET, 'file.workflow.yaml': `password: ${PASSWORD}\n` });
    expect(secret.metadata!.name).toBe(name);
  });

  it('is exactly what client-node\'s V1Job and V1Secret types describe', () => {
    expect(roundTrip(job, 'V1Job')).toEqual(JSON.parse(JSON.stringify(job)));
    expect(roundTrip(secret, 'V1Secret')).toEqual(JSON.parse(JSON.stringify(secret)));
    // The check has teeth: a misspelt field does not survive the round trip.
    const bad = JSON.parse(JSON.stringify(job));
    bad.spec.template.spec.restartPolicyy = 'Never';
    expect(roundTrip(bad, 'V1Job')).not.toEqual(bad);
  });

  it('has no deadline without a timeout, and a command asset uses the environment image', () => {
    const o = buildStepObjects({ argv: ['dbt', 'run'], env: {}, secretEnv: {}, files: [] }, { runId: RUN, asset: asset('dbt/run'), attempt: 1 }, { settings: K8S_SETTINGS, envName: 'k8s' });
    expect(o.job.spec!.activeDeadlineSeconds).toBeUndefined();
    expect(o.job.spec!.suspend).toBeUndefined();
    expect(o.job.spec!.template.spec!.containers[0]!.image).toBe('registry.example.org/tools:1.2');
    expect(o.job.spec!.template.spec!.volumes).toBeUndefined();
    expect(o.job.metadata!.namespace).toBeUndefined();
  });

  it('names the missing image setting', () => {
    expect(() => buildStepObjects({ argv: ['x'], env: {}, secretEnv: {}, files: [] }, { runId: RUN, asset: asset('a/b'), attempt: 1 }, { settings: {}, envName: 'k8s' })).toThrow('set environments.k8s.kubernetes.image');
  });

  it('keeps finished Jobs for ttl_after_finished, and sets fsGroup when asked', () => {
    const o = buildStepObjects(spec, { runId: RUN, asset: asset('a'), attempt: 1 }, { settings: { ...K8S_SETTINGS, ttl_after_finished: '2h' }, envName: 'k8s' });
    expect(o.job.spec!.ttlSecondsAfterFinished).toBe(7200);
    expect(o.job.spec!.template.spec!.securityContext).toBeUndefined();
    const g = buildStepObjects(spec, { runId: RUN, asset: asset('a'), attempt: 1 }, { settings: { ...K8S_SETTINGS, fs_group: 50000 }, envName: 'k8s' });
    expect(g.job.spec!.template.spec!.securityContext).toEqual({ fsGroup: 50000 });
    expect(roundTrip(g.job, 'V1Job')).toEqual(JSON.parse(JSON.stringify(g.job)));
  });
});
