/**
 * `runner check --online --env k8s`: the cluster answers, and each permission the
 * runner needs in its namespace is asked with SelfSubjectAccessReview; a denied one fails
 * the check, naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliEntry, runCli } from '../execution/cli-entry.js';
import { startFakeKubernetes, type FakeKubernetes } from '../support/fake-kubernetes/index.js';
import { NEEDED } from '../../src/launchers/kubernetes/checks.js';
import { pipelinesWithKubernetes } from './helpers.js';

let api: FakeKubernetes;
let root: string;
let pipelines: string;

beforeAll(async () => {
  api = await startFakeKubernetes({ script: () => ({}), deny: ['get pods/log'] });
  root = mkdtempSync(path.join(tmpdir(), 'k8s-check-'));
  pipelines = pipelinesWithKubernetes(root);
  await cliEntry();
}, 120_000);
afterAll(async () => {
  await api?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('runner check --online (kubernetes)', () => {
  it('asks every permission and names the one denied', async () => {
    const r = await runCli(['check', '--online', '--env', 'k8s', '--json', '-p', pipelines], { cwd: root, env: { KUBECONFIG: api.kubeconfig(root), OPENMETADATA_JWT_TOKEN: 'x', VAULT_ADDR: 'http://127.0.0.1:1' } });
    expect(r.code).toBe(1);
    const checks = JSON.parse(r.stdout).checks as Array<{ name: string; ok: boolean; detail?: string }>;
    expect(checks.find((c) => c.name === `kubernetes cluster ${api.url}`)).toMatchObject({ ok: true, detail: 'answers (namespace data)' });
    expect(checks.find((c) => c.name === 'kubernetes permissions in namespace data')).toMatchObject({ ok: false, detail: expect.stringMatching(/^not allowed: get pods\/log \(/) });
    const reviews = api.requests.filter((q) => q.path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expect(reviews).toHaveLength(NEEDED.length);
    expect(reviews.map((q) => JSON.parse(q.body).spec.resourceAttributes.namespace)).toEqual(NEEDED.map(() => 'data'));
    // Nothing was created.
    expect(api.requests.filter((q) => q.method !== 'POST' || !q.path.includes('selfsubjectaccessreviews')).filter((q) => q.method !== 'GET')).toEqual([]);
  });
});
