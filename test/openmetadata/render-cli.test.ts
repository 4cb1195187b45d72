/** `runner render KEY` on the real pipelines/, through the built CLI. */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import YAML from 'yaml';
import { cliEntry, runCli } from '../execution/cli-entry.js';

const ROOT = path.resolve(__dirname, '../..');
const SECRETS = { OPENMETADATA_JWT_TOKEN: 'eyJrender.secret.token', TRINO_PASSWORD: 'render-trino-password', VAULT_ADDR: 'http://127.0.0.1:1' };

beforeAll(async () => {
  await cliEntry();
}, 120_000);

const render = (args: string[]) => runCli(['render', ...args, '-p', path.join(ROOT, 'pipelines')], { env: SECRETS });

describe('runner render', () => {
  it('prints the exact workflow with *** for secrets and the command line as a comment, resolving no secret', async () => {
    const r = await render(['openmetadata/trino/metadata', '--env', 'dev']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('# openmetadata/trino/metadata (environment dev, handler openmetadata)');
    expect(lines[1]).toMatch(/^# command: metadata ingest -c \S*runner-om-<pid>-XXXXXX\/workflow\.yaml$/);
    expect(lines[2]).toBe('# environment: RUNNER_OPENMETADATA_JWT=*** PYTHONUNBUFFERED=1');
    expect(r.stdout).toContain('password: "***"');
    expect(r.stdout).toContain('jwtToken: "${RUNNER_OPENMETADATA_JWT}"');
    for (const v of Object.values(SECRETS).slice(0, 2)) expect(r.stdout + r.stderr).not.toContain(v);
    const wf = YAML.parse(r.stdout);
    expect(wf.workflowConfig.openMetadataServerConfig.hostPort).toBe('http://localhost:8585/api');
    // (test/openmetadata/pipelines.test.ts has the real CLI parse what runner render shows.)
    expect(wf.source.serviceConnection.config.authType.password).toBe('***');
  });

  it('accepts the legacy key form and the environment', async () => {
    const r = await render(['openmetadata__iceberg__profiling', '--env', 'production']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^# command: metadata profile -c /m);
    expect(YAML.parse(r.stdout).workflowConfig.openMetadataServerConfig.hostPort).toBe('https://openmetadata.odl.mit.edu/api');
  });

  it('names the closest assets for an unknown key and exits 2', async () => {
    const r = await render(['openmetadata/trino/metdata']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('unknown asset `openmetadata/trino/metdata`; closest: openmetadata/trino/metadata, openmetadata/dbt/metadata, openmetadata/s3/metadata (runner list shows every asset)');
  });

  it('says which environment exists when the one asked for does not', async () => {
    const r = await render(['openmetadata/trino/metadata', '--env', 'staging']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/environment `staging`.*does not exist/);
  });
});
