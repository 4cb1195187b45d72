/**
 * `runner render KEY --env E` in an environment with `kubernetes:` prints the Secret and
 * the Job one attempt creates, secrets as `***`, resolving nothing; bad `kubernetes:`
 * settings are caught by `runner check` with their position.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { cliEntry, runCli } from '../execution/cli-entry.js';
import { pipelinesWithKubernetes, roundTrip } from './helpers.js';

const SECRETS = { OPENMETADATA_JWT_TOKEN: 'eyJrender.k8s.secret', TRINO_PASSWORD: 'render-k8s-trino-password', VAULT_ADDR: 'http://127.0.0.1:1' };
let root: string;
let pipelines: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'k8s-render-'));
  pipelines = pipelinesWithKubernetes(root);
  await cliEntry();
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const render = (key: string, env = 'k8s') => runCli(['render', key, '--env', env, '-p', pipelines], { env: SECRETS });

describe('runner render --env (kubernetes)', () => {
  it('prints the Secret and the Job, valid client-node objects, with every secret as ***', async () => {
    const r = await render('openmetadata/trino/profiling');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('# openmetadata/trino/profiling (environment k8s, handler openmetadata, as a Kubernetes Job)');
    for (const v of Object.values(SECRETS).slice(0, 2)) expect(r.stdout + r.stderr).not.toContain(v);
    const [secret, job] = YAML.parseAllDocuments(r.stdout).map((d) => d.toJS());
    expect(secret.kind).toBe('Secret');
    expect(secret.stringData['env.RUNNER_OPENMETADATA_JWT']).toBe('***');
    expect(secret.stringData['file.workflow.yaml']).toContain('password: "***"');
    expect(job.kind).toBe('Job');
    expect(job.metadata.namespace).toBe('data');
    const c = job.spec.template.spec.containers[0];
    expect(c.image).toBe('docker.getcollate.io/openmetadata/ingestion:1.7.7');
    expect(c.command).toEqual(['metadata', 'profile', '-c', '/runner/files/workflow.yaml']);
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '4Gi' } });
    expect(job.spec.activeDeadlineSeconds).toBe(6 * 3600);
    expect(JSON.stringify(job)).not.toContain('***'); // the Job holds references, not even masked values
    expect(roundTrip(job, 'V1Job')).toEqual(job);
    expect(roundTrip(secret, 'V1Secret')).toEqual(secret);
  });

  it('uses openmetadata.image when the environment sets one, and the local form elsewhere', async () => {
    writeFileSync(path.join(pipelines, 'kubernetes-test.yaml'), (await import('node:fs')).readFileSync(path.join(pipelines, 'kubernetes-test.yaml'), 'utf8').replace('    kubernetes:', '    openmetadata:\n      image: docker.getcollate.io/openmetadata/ingestion:1.10.4\n    kubernetes:'));
    const r = await render('openmetadata/dbt/metadata');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('image: docker.getcollate.io/openmetadata/ingestion:1.10.4');
    const local = await render('openmetadata/dbt/metadata', 'dev');
    expect(local.stdout).toMatch(/^# command: metadata ingest -c /m);
  });

  it('runner check reports a bad kubernetes setting at its position, exit 2', async () => {
    const dir = mkdtempSync(path.join(root, 'bad-'));
    const p = pipelinesWithKubernetes(dir, { kubernetes: { resources: { limits: { memory: '4 GB' } }, ttl_after_finished: 'a day' } });
    const r = await runCli(['check', '-p', p], { env: SECRETS });
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/kubernetes-test\.yaml:\d+:\d+/);
    expect(r.stderr + r.stdout).toContain('memory');
    expect(r.stderr + r.stdout).toContain('ttl_after_finished');
    expect(r.stderr + r.stdout).not.toMatch(/\n\s+at /); // no stack trace
  });
});
