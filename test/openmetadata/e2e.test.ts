/**
 * End to end: the built CLI runs the real pipelines/ (copied, pointed at the fake server)
 * with the fake `metadata` CLI first on PATH and the secrets in environment variables.
 * All 12 assets run in dependency order; a failing Trino metadata step skips its lineage
 * and profiling while the other sources run; the JWT appears nowhere: not in the terminal,
 * the log files, the stored events, files left on disk, or error messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliEntry, runCli } from '../execution/cli-entry.js';
import { fakeJwt, pathWithFakeCli, startFakeOpenMetadataServer, type FakeOpenMetadataServer } from '../support/fake-openmetadata/index.js';
import { copyPipelinesForFakes } from './helpers.js';

const ROOT = path.resolve(__dirname, '../..');

const JWT = fakeJwt('e2e');
const SECRETS = { TRINO_PASSWORD: 'trino-Pa55-e2e-value', SUPERSET_PASSWORD: 'superset-Pa55-e2e-value', REDASH_API_KEY: 'redash-key-e2e-value' };
let server: FakeOpenMetadataServer;
let root: string;
let pipelines: string;
let home: string;
let tmp: string;
let record: string;
const outputs: string[] = [];

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: pathWithFakeCli(),
    RUNNER_HOME: home,
    RUNNER_ENV: 'dev',
    TMPDIR: tmp,
    OPENMETADATA_JWT_TOKEN: JWT,
    ...SECRETS,
    DBT_TARGET_DIR: path.join(root, 'dbt-target'),
    FAKE_OM_RECORD: record,
    FAKE_OM_PRINT_CONFIG: '1', // the CLI logs its config, JWT and passwords included: the runner must mask them
    RUNNER_KILL_GRACE: '1s',
    ...extra,
  };
}

async function cli(args: string[], extra: Record<string, string> = {}) {
  const r = await runCli(args, { cwd: root, env: env(extra) });
  outputs.push(r.stdout, r.stderr);
  return r;
}

function records(): Array<Record<string, any>> {
  return existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

beforeAll(async () => {
  server = await startFakeOpenMetadataServer({ jwt: JWT });
  root = mkdtempSync(path.join(tmpdir(), 'om-e2e-'));
  home = path.join(root, 'home');
  tmp = path.join(root, 'tmp');
  record = path.join(root, 'record.jsonl');
  mkdirSync(tmp);
  pipelines = copyPipelinesForFakes(ROOT, root, server.url);
  await cliEntry();
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('runner materialize --select openmetadata/* (fake CLI and server)', () => {
  let firstRunId: string;

  it('runs all 12 assets in dependency order, each with its sub-command, and succeeds', async () => {
    const r = await cli(['materialize', '-p', pipelines, '--select', 'openmetadata/*', '--output', 'plain']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const rec = records();
    const workflows = rec.filter((x) => x.event === 'workflow');
    expect(workflows.map((w) => w.asset).sort()).toEqual([
      // dbt/lineage is the very workflow of dbt/metadata: one CLI run materializes both.
      'openmetadata/airbyte/metadata', 'openmetadata/dagster/metadata', 'openmetadata/dbt/metadata',
      'openmetadata/iceberg/metadata', 'openmetadata/iceberg/profiling', 'openmetadata/redash/metadata', 'openmetadata/s3/metadata',
      'openmetadata/superset/metadata', 'openmetadata/trino/lineage', 'openmetadata/trino/metadata', 'openmetadata/trino/profiling',
    ]);
    const byPid = new Map(rec.filter((x) => x.event === 'start').map((x) => [x.pid, x]));
    const sub = Object.fromEntries(workflows.map((w) => [w.asset, byPid.get(w.pid)!.sub]));
    expect(sub['openmetadata/trino/profiling']).toBe('profile');
    expect(sub['openmetadata/iceberg/profiling']).toBe('profile');
    expect(sub['openmetadata/trino/lineage']).toBe('ingest');
    // A dependent starts only after its upstream's CLI exited.
    const startOf = (key: string) => workflows.find((w) => w.asset === key)!.t as number;
    const exitOf = (key: string) => rec.find((x) => x.event === 'exit' && x.pid === workflows.find((w) => w.asset === key)!.pid)!.t as number;
    for (const [child, parent] of [['openmetadata/trino/lineage', 'openmetadata/trino/metadata'], ['openmetadata/trino/profiling', 'openmetadata/trino/metadata'], ['openmetadata/iceberg/profiling', 'openmetadata/iceberg/metadata']]) {
      expect(startOf(child!)).toBeGreaterThanOrEqual(exitOf(parent!));
    }
    const runs = JSON.parse((await cli(['runs', '--json', '-p', pipelines])).stdout).runs;
    firstRunId = runs[0].id;
    const shown = JSON.parse((await cli(['show', firstRunId, '--json', '-p', pipelines])).stdout);
    expect(shown.status).toBe('success');
    expect(shown.steps).toHaveLength(12);
    const trino = shown.steps.find((s: any) => s.key === 'openmetadata/trino/metadata');
    expect(trino.metadata).toMatchObject({ command: 'metadata ingest', pipeline_type: 'DatabaseMetadata', workflow_success_pct: 100, records_processed: 12 });
    const dbt = Object.fromEntries(shown.steps.filter((s: any) => s.key.startsWith('openmetadata/dbt/')).map((s: any) => [s.key, s]));
    expect(dbt['openmetadata/dbt/metadata'].metadata).toMatchObject({ pipeline_type: 'DBT', materializes: ['openmetadata/dbt/lineage', 'openmetadata/dbt/metadata'] });
    expect(dbt['openmetadata/dbt/lineage']).toMatchObject({ status: 'success', metadata: { pipeline_type: 'DBT', materialized_by: 'openmetadata/dbt/metadata' } });
    // No workflow directory is left behind.
    expect(readdirSync(tmp).filter((n) => n.startsWith('runner-om-'))).toEqual([]);
  }, 180_000);

  it('skips Trino lineage and profiling when Trino metadata fails, and runs the other sources', async () => {
    const r = await cli(['materialize', '-p', pipelines, '--select', 'openmetadata/*', '--output', 'plain'], { FAKE_OM_FAIL_SOURCE: 'trino' });
    expect(r.code).toBe(1);
    const runs = JSON.parse((await cli(['runs', '--json', '-p', pipelines])).stdout).runs;
    const run = runs[0];
    expect(run.id).not.toBe(firstRunId);
    const status = Object.fromEntries(run.steps.map((s: any) => [s.key, s.status]));
    expect(status['openmetadata/trino/metadata']).toBe('failure');
    expect(status['openmetadata/trino/lineage']).toBe('skipped');
    expect(status['openmetadata/trino/profiling']).toBe('skipped');
    const others = Object.entries(status).filter(([k]) => !k.startsWith('openmetadata/trino/'));
    expect(others).toHaveLength(9);
    for (const [, s] of others) expect(s).toBe('success');
    const failed = run.steps.find((s: any) => s.key === 'openmetadata/trino/metadata');
    expect(failed.attempts).toBe(3); // retried as its policy says, then failed
    expect(failed.error).toMatch(/^`metadata ingest` exited with code 1\nsummary: Trino: 9 processed/);
    expect(failed.error).toContain('WorkflowExecutionError: Trino reported errors');
    expect(readdirSync(tmp).filter((n) => n.startsWith('runner-om-'))).toEqual([]);
  }, 180_000);

  it('shows the rendered configs with *** in a dry run', async () => {
    const r = await cli(['materialize', '-p', pipelines, '--select', 'openmetadata/trino/*', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('metadata profile -c');
  });

  it('never lets the JWT (or another secret) out: terminal, logs, stored events, files left, messages', async () => {
    const logs = await cli(['logs', firstRunId, '-p', pipelines]);
    expect(logs.code).toBe(0);
    const secrets = [JWT, ...Object.values(SECRETS)];
    const leaks: string[] = [];
    const texts: Array<[string, string]> = outputs.map((o, i) => [`terminal output #${i}`, o]);
    for (const f of [...files(home), ...files(tmp)]) texts.push([f, readFileSync(f).toString('latin1')]);
    for (const [where, text] of texts) for (const s of secrets) if (text.includes(s)) leaks.push(`${s === JWT ? 'JWT' : 'secret'} in ${where}`);
    expect(leaks).toEqual([]);
    // The store and the logs were searched, and they hold what they should.
    const stored = files(home);
    expect(stored.some((f) => f.endsWith('.db'))).toBe(true);
    expect(stored.filter((f) => statSync(f).size > 0).length).toBeGreaterThan(12);
    expect(outputs.join('\n')).toContain('Workflow Success %');
    // The CLI did print the token: it reached the logs masked.
    const log = logs.stdout;
    expect(log).toMatch(/Using config: .*"jwtToken":"\*\*\*"/);
    expect(log).toMatch(/"password":"\*\*\*"/);
  }, 60_000);
});
