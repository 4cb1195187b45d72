/**
 * `runner check --online` and the preflight before a run, through the built CLI against
 * the fake CLI and server: a table of checks with pass/fail and the reason (exit 0 / 1),
 * and a rejected JWT fails the OpenMetadata steps before any CLI starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliEntry, runCli } from '../execution/cli-entry.js';
import { fakeJwt, pathWithFakeCli, startFakeOpenMetadataServer, type FakeOpenMetadataServer } from '../support/fake-openmetadata/index.js';
import { copyPipelinesForFakes } from './helpers.js';

const ROOT = path.resolve(__dirname, '../..');
const JWT = fakeJwt('online');
let server: FakeOpenMetadataServer;
let root: string;
let pipelines: string;
let record: string;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: pathWithFakeCli(),
    RUNNER_HOME: path.join(root, 'home'),
    RUNNER_ENV: 'dev',
    TMPDIR: path.join(root, 'tmp'),
    OPENMETADATA_JWT_TOKEN: JWT,
    TRINO_PASSWORD: 'trino-online-value',
    SUPERSET_PASSWORD: 'superset-online-value',
    REDASH_API_KEY: 'redash-online-value',
    SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/webhook-online-value',
    DBT_TARGET_DIR: path.join(root, 'dbt-target'),
    FAKE_OM_RECORD: record,
    VAULT_TOKEN: '',
    ...extra,
  };
}

beforeAll(async () => {
  server = await startFakeOpenMetadataServer({ jwt: JWT });
  root = mkdtempSync(path.join(tmpdir(), 'om-online-'));
  record = path.join(root, 'record.jsonl');
  mkdirSync(path.join(root, 'tmp'));
  pipelines = copyPipelinesForFakes(ROOT, root, server.url);
  await cliEntry();
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('runner check --online', () => {
  it('prints a table of passing checks and exits 0 when everything answers', async () => {
    const r = await runCli(['check', '--online', '-p', pipelines], { cwd: root, env: env() });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/CHECK\s+RESULT\s+DETAIL/);
    expect(r.stdout).toMatch(/secret openmetadata_jwt\s+pass/);
    expect(r.stdout).toMatch(/all \d+ checks passed/);
    expect(r.stdout).not.toContain(JWT);
  });

  it('fails (exit 1) naming the secret when the server rejects the JWT, and names a missing dbt file', async () => {
    rmSync(path.join(root, 'dbt-target', 'catalog.json'));
    try {
      const wrong = fakeJwt('wrong');
      const r = await runCli(['check', '--online', '-p', pipelines], { cwd: root, env: env({ OPENMETADATA_JWT_TOKEN: wrong }) });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toContain('FAIL');
      expect(r.stdout).toContain('the JWT from secret `openmetadata_jwt` was rejected by');
      expect(r.stdout).toContain('catalog.json');
      expect(r.stdout + r.stderr).not.toContain(wrong);
    } finally {
      writeFileSync(path.join(root, 'dbt-target', 'catalog.json'), '{}');
    }
  });

  it('fails (exit 1) with the secret named, never a value, when a secret has no source', async () => {
    const r = await runCli(['check', '--online', '-p', pipelines], { cwd: root, env: env({ TRINO_PASSWORD: '', VAULT_ADDR: 'http://127.0.0.1:9' }) });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/secret trino_password\s+FAIL/);
    expect(r.stdout).not.toContain('superset-online-value');
  });
});

describe('preflight before a run', () => {
  it('a rejected JWT fails the OpenMetadata steps before their CLI starts', async () => {
    const wrong = fakeJwt('run-wrong');
    const r = await runCli(['materialize', '-p', pipelines, '--select', 'openmetadata/trino/metadata', '--output', 'plain'], { cwd: root, env: env({ OPENMETADATA_JWT_TOKEN: wrong }) });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toContain('was rejected by');
    expect(r.stdout + r.stderr).not.toContain(wrong);
    const started = existsSync(record) ? readFileSync(record, 'utf8').split('\n').filter((l) => l.includes('"workflow"')) : [];
    expect(started).toEqual([]);
  });
});
