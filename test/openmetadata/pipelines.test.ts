/**
 * The project's real pipelines/: every openmetadata asset, rendered in every environment,
 * is a workflow the real CLI's own config parser accepts, at both pinned versions (the
 * team's 1.7 line and the newest); and the files say what the original system had.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { loadDefinitions } from '../../src/definitions/load.js';
import { resolveEnvironment } from '../../src/definitions/environment.js';
import { substituteDeep, secretsIn } from '../../src/definitions/interpolate.js';
import type { Definitions } from '../../src/definitions/model.js';
import { openmetadataHandler } from '../../src/handlers/openmetadata/index.js';
import { renderWorkflow } from '../../src/handlers/openmetadata/render.js';
import { resolveSettings } from '../../src/handlers/openmetadata/settings.js';
import { openMetadataClis } from '../support/peers.js';
import { realVerdicts } from '../support/real-openmetadata/index.js';
import YAML from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const PIPELINES = path.join(ROOT, 'pipelines');
let defs: Definitions;

beforeAll(async () => {
  const r = await loadDefinitions(PIPELINES, { cacheDir: false });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.pos?.file}:${d.pos?.line}:${d.pos?.col}: ${d.message}`).join('\n'));
  defs = r.value;
});

const ENVS = ['dev', 'qa', 'production'];
const EXPECTED: Record<string, { deps: string[]; type: string; sub: string; service: string }> = {
  'openmetadata/trino/metadata': { deps: [], type: 'DatabaseMetadata', sub: 'ingest', service: 'starburst_galaxy' },
  'openmetadata/trino/lineage': { deps: ['openmetadata/trino/metadata'], type: 'DatabaseLineage', sub: 'ingest', service: 'starburst_galaxy' },
  'openmetadata/trino/profiling': { deps: ['openmetadata/trino/metadata'], type: 'Profiler', sub: 'profile', service: 'starburst_galaxy' },
  'openmetadata/dbt/metadata': { deps: [], type: 'DBT', sub: 'ingest', service: 'starburst_galaxy' },
  'openmetadata/dbt/lineage': { deps: ['openmetadata/dbt/metadata'], type: 'DBT', sub: 'ingest', service: 'starburst_galaxy' },
  'openmetadata/dagster/metadata': { deps: [], type: 'PipelineMetadata', sub: 'ingest', service: 'dagster_pipelines' },
  'openmetadata/superset/metadata': { deps: [], type: 'DashboardMetadata', sub: 'ingest', service: 'superset_analytics' },
  'openmetadata/airbyte/metadata': { deps: [], type: 'PipelineMetadata', sub: 'ingest', service: 'airbyte_elt' },
  'openmetadata/s3/metadata': { deps: [], type: 'StorageMetadata', sub: 'ingest', service: 's3_datalake' },
  'openmetadata/iceberg/metadata': { deps: [], type: 'DatabaseMetadata', sub: 'ingest', service: 'iceberg_catalog' },
  'openmetadata/iceberg/profiling': { deps: ['openmetadata/iceberg/metadata'], type: 'Profiler', sub: 'profile', service: 'iceberg_catalog' },
  'openmetadata/redash/metadata': { deps: [], type: 'DashboardMetadata', sub: 'ingest', service: 'redash_analytics' },
};

describe('pipelines/ (the original system\'s 12 ingestion assets)', () => {
  it('defines the 12 assets with their deps, group, handler, pool and pipeline types', () => {
    const om = [...defs.assets.values()].filter((a) => a.handler === 'openmetadata');
    expect(om.map((a) => a.key).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const a of om) {
      const e = EXPECTED[a.key]!;
      expect({ key: a.key, deps: a.deps, group: a.group, pool: a.pool, type: (a.config as any).source.sourceConfig.config.type, service: (a.config as any).source.serviceName }).toEqual({ key: a.key, deps: e.deps, group: 'openmetadata', pool: 'openmetadata_cli', type: e.type, service: e.service });
      expect(a.description).toBeTruthy();
      expect(a.owners.length).toBeGreaterThan(0);
      expect(a.tags.source).toBe(a.key.split('/')[1]);
      expect(a.retry?.attempts).toBeGreaterThan(1);
      expect(a.timeoutMs).toBeGreaterThan(0);
    }
  });

  it('renders every asset in every environment into a workflow the real CLI parses, at both pinned versions', async () => {
    const processEnv = { PATH: process.env.PATH }; // no TRINO_USERNAME etc.: the defaults apply
    const workflows = new Map<string, unknown>();
    for (const name of ENVS) {
      const env = resolveEnvironment(defs, name, processEnv);
      if (!env.ok) throw new Error(JSON.stringify(env.diagnostics));
      const url = resolveSettings(env.value);
      expect(url.ok).toBe(true);
      for (const a of defs.assets.values()) {
        if (a.handler !== 'openmetadata') continue;
        // As the executor does: every reference substituted, secrets with (fake) values.
        const sub = substituteDeep(a.config, { env: processEnv, vars: env.value.vars, secrets: (s) => `value-of-${s}` });
        expect(sub.errors).toEqual([]);
        const r = renderWorkflow(sub.value, url.ok ? url.value.url : '', 'eyJ.jwt.sig');
        expect({ key: a.key, env: name, sub: r.subcommand }).toEqual({ key: a.key, env: name, sub: EXPECTED[a.key]!.sub });
        workflows.set(`${a.key} (${name})`, r.workflow);
        // And what `runner render` shows (secrets masked) is the same workflow but for the secrets.
        const masked = substituteDeep(a.config, { env: processEnv, vars: env.value.vars, secrets: 'mask' }).value;
        const shown = openmetadataHandler.render({ asset: a, config: masked as any, env: env.value, projectDir: defs.projectDir });
        workflows.set(`${a.key} (${name}, as runner render shows it)`, YAML.parse(shown.files![0]!.content));
      }
    }
    expect(workflows.size).toBe(72);
    const clis = openMetadataClis();
    const rejectedBy = async (cli: (typeof clis)['team']) => [...(await realVerdicts(cli, workflows))].filter(([, v]) => !v.valid);
    // The team's 1.7 line, which the assets target, accepts all 72.
    expect((await rejectedBy(clis.team)).map(([k, v]) => `${k}: ${v.error}`)).toEqual([]);
    // 2.0 has no Iceberg connector any more (no IcebergConnection among its database
    // connections): it rejects exactly the two iceberg assets, in every environment, and
    // accepts the other ten (the handler's schema and docs/openmetadata.md say so).
    const newest = await rejectedBy(clis.newest);
    expect(newest.map(([k]) => k).sort()).toEqual(ENVS.flatMap((e) => ['metadata', 'profiling'].flatMap((w) => [`openmetadata/iceberg/${w} (${e})`, `openmetadata/iceberg/${w} (${e}, as runner render shows it)`])).sort());
    for (const [, v] of newest) expect(v.error).toMatch(/^ParsingConfigurationError: .*\n[\s\S]*Extra parameter in \('source', 'serviceConnection', .*'catalog'\)/);
  }, 600_000);

  it('points each environment at its OpenMetadata server and Dagster webserver', () => {
    const hosts: Record<string, [string, string]> = {};
    for (const name of ENVS) {
      const env = resolveEnvironment(defs, name, {});
      if (!env.ok) throw new Error('env');
      const dagster = substituteDeep(defs.assets.get('openmetadata/dagster/metadata')!.config, { env: {}, vars: env.value.vars, secrets: 'mask' }).value as any;
      hosts[name] = [(resolveSettings(env.value) as any).value.url, dagster.source.serviceConnection.config.host];
    }
    expect(hosts).toEqual({
      dev: ['http://localhost:8585/api', 'http://localhost:3000'],
      qa: ['https://openmetadata-qa.odl.mit.edu/api', 'https://pipelines-qa.odl.mit.edu'],
      production: ['https://openmetadata.odl.mit.edu/api', 'https://pipelines.odl.mit.edu'],
    });
  });

  it('keeps credentials out of the files: only secret references and environment usernames', () => {
    const secrets = new Set<string>();
    for (const a of defs.assets.values()) for (const s of secretsIn(a.config)) secrets.add(s);
    expect([...secrets].sort()).toEqual(['redash_api_key', 'superset_password', 'trino_password']);
    const dir = path.join(PIPELINES, 'openmetadata');
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['airbyte.yaml', 'dagster.yaml', 'dbt.yaml', 'iceberg.yaml', 'redash.yaml', 's3.yaml', 'superset.yaml', 'trino.yaml']);
    for (const f of files) {
      const text = readFileSync(path.join(dir, f), 'utf8');
      expect(text.startsWith('# yaml-language-server: $schema=../../schemas/pipeline.schema.json\n')).toBe(true);
      expect(text).not.toMatch(/REPLACE_ME|password:\s*(?!"\$\{secret:)\S|apiKey:\s*(?!"\$\{secret:)\S|jwtToken/);
    }
    const all = files.map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
    for (const ref of ['${secret:trino_password}', '${secret:superset_password}', '${secret:redash_api_key}', '${env:TRINO_USERNAME:-', '${env:SUPERSET_USERNAME:-', '${env:REDASH_USERNAME:-', '${var:dagster_url}', '${env:DBT_TARGET_DIR:-/app/src/ol_dbt/target}']) {
      expect(all).toContain(ref);
    }
    expect(all).not.toContain('serviceName: dbt_ol_warehouse');
  });

  it('reads dbt artifacts from DBT_TARGET_DIR when it is set', () => {
    const env = resolveEnvironment(defs, 'dev', {});
    if (!env.ok) throw new Error('env');
    const cfg = substituteDeep(defs.assets.get('openmetadata/dbt/metadata')!.config, { env: { DBT_TARGET_DIR: '/home/me/ol_dbt/target' }, vars: env.value.vars, secrets: 'mask' }).value as any;
    expect(cfg.source.sourceConfig.config.dbtConfigSource.dbtManifestFilePath).toBe('/home/me/ol_dbt/target/manifest.json');
    const dflt = substituteDeep(defs.assets.get('openmetadata/dbt/lineage')!.config, { env: {}, vars: env.value.vars, secrets: 'mask' }).value as any;
    expect(dflt.source.sourceConfig.config.dbtConfigSource.dbtCatalogFilePath).toBe('/app/src/ol_dbt/target/catalog.json');
  });
});
