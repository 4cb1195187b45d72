/**
 * A dbt ingestion end to end with the real tools: test/fixtures/dbt (DuckDB) is built with the
 * real `dbt build` and `dbt docs generate` into a temporary folder, giving real
 * manifest.json, catalog.json and run_results.json; `runner materialize` runs the real
 * `metadata ingest` (1.7.7.4) on the rendered dbt workflow against the server double, which
 * holds the DuckDB tables as if the database metadata had been ingested before and keeps
 * what the client sends: the model descriptions and the lineage arrive, and the step's
 * metadata holds the real summary's counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { cliEntry, runCli } from '../execution/cli-entry.js';
import { fakeJwt, startFakeOpenMetadataServer, type FakeOpenMetadataServer } from '../support/fake-openmetadata/index.js';
import { dbtBin, openMetadataClis } from '../support/peers.js';

const FIXTURE = path.resolve(__dirname, '../fixtures/dbt');
const JWT = fakeJwt('dbt');
const cli = openMetadataClis().team;
const SERVICE = 'starburst_galaxy';
let server: FakeOpenMetadataServer;
let root: string;
let target: string;
let manifest: any;

async function dbt(args: string[], targetPath: string) {
  const r = await execa(dbtBin(), [...args, '--project-dir', path.join(root, 'project'), '--profiles-dir', path.join(root, 'project'), '--target-path', targetPath, '--log-path', path.join(root, 'logs')], {
    reject: false,
    env: { DBT_DUCKDB_PATH: path.join(root, 'campus.duckdb'), DBT_SEND_ANONYMOUS_USAGE_STATS: 'false' },
  });
  if (r.exitCode !== 0) throw new Error(`dbt ${args.join(' ')} exited ${r.exitCode}:\n${String(r.stdout).slice(-3000)}`);
}

/** The tables of the catalog, in the double, as the database ingestion would have left them. */
function seedTables() {
  const catalog = JSON.parse(readFileSync(path.join(target, 'catalog.json'), 'utf8'));
  const s = server.store;
  // The service with its connection: the client reads it for the dialect of the models' SQL.
  s.seed('services/databaseServices', { name: SERVICE, fullyQualifiedName: SERVICE, serviceType: 'Trino', connection: { config: { type: 'Trino', hostPort: '127.0.0.1:8080', username: 'svc', catalog: 'campus' } } });
  const nodes = { ...catalog.nodes, ...catalog.sources } as Record<string, { metadata: { database: string; schema: string; name: string }; columns: Record<string, { name: string; type: string }> }>;
  for (const n of Object.values(nodes)) {
    const { database, schema, name } = n.metadata;
    const dbFqn = `${SERVICE}.${database}`;
    const schemaFqn = `${dbFqn}.${schema}`;
    const svc = s.get('services/databaseServices', SERVICE)!;
    const db = s.get('databases', dbFqn) ?? s.seed('databases', { name: database, fullyQualifiedName: dbFqn, service: { id: svc.id, type: 'databaseService', name: SERVICE, fullyQualifiedName: SERVICE } });
    const sch = s.get('databaseSchemas', schemaFqn) ?? s.seed('databaseSchemas', { name: schema, fullyQualifiedName: schemaFqn, database: { id: db.id, type: 'database', fullyQualifiedName: dbFqn }, service: { id: svc.id, type: 'databaseService', fullyQualifiedName: SERVICE } });
    const fqn = `${schemaFqn}.${name}`;
    s.seed('tables', {
      name,
      fullyQualifiedName: fqn,
      tableType: 'Regular',
      columns: Object.values(n.columns).map((c) => ({ name: c.name, dataType: 'VARCHAR', dataLength: 1, fullyQualifiedName: `${fqn}.${c.name}` })),
      databaseSchema: { id: sch.id, type: 'databaseSchema', fullyQualifiedName: schemaFqn },
      database: { id: db.id, type: 'database', fullyQualifiedName: dbFqn },
      service: { id: svc.id, type: 'databaseService', fullyQualifiedName: SERVICE },
      serviceType: 'Trino',
    });
  }
}

function project(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'platform.yaml'), `environments:
  default: dev
  dev:
    vars: {openmetadata_url: "${server.url}"}
    openmetadata: {cli: ["${cli.metadata}"]}
secrets:
  openmetadata_jwt: {env: OPENMETADATA_JWT_TOKEN}
assets:
  - key: openmetadata/dbt/metadata
    handler: openmetadata
    config:
      source:
        type: dbt
        serviceName: ${SERVICE}
        sourceConfig:
          config:
            type: DBT
            dbtConfigSource:
              dbtConfigType: local
              dbtCatalogFilePath: "${target}/catalog.json"
              dbtManifestFilePath: "${target}/manifest.json"
              dbtRunResultsFilePath: "${target}/run_results.json"
`);
  return dir;
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'om-dbt-'));
  cpSync(FIXTURE, path.join(root, 'project'), { recursive: true });
  target = path.join(root, 'target');
  // `dbt docs generate` writes its own run_results.json: the catalog comes from a second target.
  await dbt(['build'], target);
  await dbt(['docs', 'generate'], path.join(root, 'docs-target'));
  cpSync(path.join(root, 'docs-target', 'catalog.json'), path.join(target, 'catalog.json'));
  manifest = JSON.parse(readFileSync(path.join(target, 'manifest.json'), 'utf8'));
  server = await startFakeOpenMetadataServer({ jwt: JWT, version: cli.version });
  await cliEntry();
}, 600_000);

afterAll(async () => {
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Runs the asset once, against a store holding only the seeded tables. */
async function materialize(name: string) {
  server.store.entities.clear();
  server.store.lineage.length = 0;
  server.store.patches.length = 0;
  seedTables();
  const dir = project(path.join(root, name));
  const home = path.join(root, `${name}-home`);
  const r = await runCli(['materialize', '-p', dir, '--select', 'openmetadata/dbt/metadata', '--output', 'plain'], { env: { RUNNER_HOME: home, OPENMETADATA_JWT_TOKEN: JWT, PYTHONWARNINGS: 'ignore' } });
  if (process.env.RUNNER_CAPTURE_DIR) writeFileSync(path.join(process.env.RUNNER_CAPTURE_DIR, `${cli.version}-dbt-${name}.txt`), r.stdout + r.stderr);
  const runs = JSON.parse((await runCli(['runs', '--json', '-p', dir], { env: { RUNNER_HOME: home } })).stdout).runs;
  const step = JSON.parse((await runCli(['show', runs[0].id, '--json', '-p', dir], { env: { RUNNER_HOME: home } })).stdout).steps[0];
  return { r, step };
}

const fqnOf = (id: string) => [...(server.store.entities.get('tables')?.values() ?? [])].find((e) => e.id === id)?.fullyQualifiedName;

describe(`a dbt ingestion with the real dbt and metadata ${cli.version}`, () => {
  it('sends the model descriptions, the lineage and the test results; the step holds the real summary', async () => {
    const { r, step } = await materialize('ok');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(step.status).toBe('success');
    expect(step.warnings ?? []).toEqual([]);
    // What the real CLI counted: every dbt node the manifest has, none failed.
    expect(step.metadata).toMatchObject({ command: 'metadata ingest', pipeline_type: 'DBT', summary_form: 'current', errors: 0, warnings: 0, exit_code: 0, outcome: 'success', workflow_success_pct: 100 });
    expect(step.metadata.steps.map((x: any) => [x.name, x.errors])).toEqual([['dbt', 0], ['OpenMetadata', 0]]);
    expect(step.metadata.records_processed).toBeGreaterThanOrEqual(Object.keys(manifest.nodes).length);
    const db = manifest.nodes['model.campus.stg_orders'].database;
    const stg = server.store.get('tables', `${SERVICE}.${db}.main.stg_orders`)!;
    expect(stg.description).toBe('Orders cleaned from the raw export, one row per order.');
    expect((stg.columns as any[]).find((c) => c.name === 'status').description).toBe('Shipping status of the order.');
    expect(server.store.get('tables', `${SERVICE}.${db}.main.customer_totals`)!.description).toBe('Shipped orders and amount per customer.');
    expect((stg.dataModel as any).modelType).toBe('DBT');
    const edges = server.store.lineage.map((e) => `${fqnOf(e.from.id)} -> ${fqnOf(e.to.id)}`);
    expect(new Set(edges)).toEqual(new Set([`${SERVICE}.${db}.raw.orders -> ${SERVICE}.${db}.main.stg_orders`, `${SERVICE}.${db}.main.stg_orders -> ${SERVICE}.${db}.main.customer_totals`]));
    expect([...server.store.entities.get('dataQuality/testCases')!.keys()].length).toBe(7);
  }, 600_000);

  it('one failed call among many: exit 0 above the threshold, the step succeeds with a warning and outcome partial', async () => {
    // The data model of one table is refused: one sink error among the dbt nodes. (The real
    // CLI prints `Workflow finished with failures` for source failures only; a source read
    // that fails is a warning to it, so the runner also counts the summary's errors.)
    const totals = () => server.store.get('tables', `${SERVICE}.${manifest.nodes['model.campus.customer_totals'].database}.main.customer_totals`)?.id;
    server.setFault((m, p) => m === 'PUT' && p === `/api/v1/tables/${totals()}/dataModel`);
    try {
      const { r, step } = await materialize('partial');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(step.status).toBe('success');
      expect(step.metadata).toMatchObject({ exit_code: 0, outcome: 'partial', errors: 1 });
      expect(step.metadata.steps.map((x: any) => [x.name, x.errors])).toEqual([['dbt', 0], ['OpenMetadata', 1]]);
      expect(step.metadata.workflow_success_pct).toBeGreaterThan(90);
    } finally {
      server.setFault(undefined);
    }
  }, 600_000);

  it('errors below the success threshold: exit 1, the step fails with the summary and the failures', async () => {
    server.setFault((m, p) => (m === 'PATCH' && p.startsWith('/api/v1/tables/')) || (m === 'PUT' && p.startsWith('/api/v1/dataQuality/')));
    try {
      const { r, step } = await materialize('failed');
      expect(r.code).toBe(1);
      expect(step.status).toBe('failure');
      expect(step.metadata).toMatchObject({ exit_code: 1, outcome: 'failed' });
      expect(step.metadata.errors).toBeGreaterThan(2);
      const lines = step.error.split('\n');
      expect(lines[0]).toBe('`metadata ingest` exited with code 1');
      expect(lines[1]).toMatch(/^summary: dbt: \d+ processed, .*; OpenMetadata: \d+ processed, .* [1-9]\d* errors, [\d.]+%; workflow [\d.]+% in /);
      expect(step.error).toMatch(/\nfailures \(\d+(, first 10 shown)?\):\n/);
      expect(lines.at(-1)).toMatch(/WorkflowExecutionError: (dbt|OpenMetadata) reported errors: /);
    } finally {
      server.setFault(undefined);
    }
  }, 600_000);
});
