/** Shared pieces of the openmetadata handler tests. */
import type { ResolvedEnvironment } from '../../src/definitions/environment.js';
import type { AssetDef } from '../../src/definitions/model.js';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** An environment whose OpenMetadata server is `url`, running the CLI `cli` (or an image). */
export function env(url = 'http://localhost:8585/api', om: ResolvedEnvironment['openmetadata'] = {}, name = 'dev'): ResolvedEnvironment {
  return { name, vars: { openmetadata_url: url, dagster_url: 'http://localhost:3000' }, openmetadata: om };
}

/** An asset with the `openmetadata` handler. */
export function asset(key: string, config: Record<string, unknown>): AssetDef {
  return { key, group: 'openmetadata', tags: {}, kinds: [], owners: [], deps: [], handler: 'openmetadata', config, pos: { file: 'test.yaml', line: 1, col: 1 }, configPath: ['assets', 0, 'config'] };
}

/** A small valid Trino metadata config. */
export function trinoConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source: {
      type: 'trino',
      serviceName: 'starburst_galaxy',
      serviceConnection: { config: { type: 'Trino', hostPort: 'trino.example.org:443', username: 'svc', authType: { password: 'pw-secret-value' } } },
      sourceConfig: { config: { type: 'DatabaseMetadata' } },
    },
    ...over,
  };
}

/**
 * A copy of the project's pipelines/ under `root` for end-to-end runs: the dev
 * environment pointed at `serverUrl` and letting its steps inherit the fake CLI's `FAKE_OM_*`
 * variables, retries without minutes of backoff, and the dbt
 * artifacts in `<root>/dbt-target` (set DBT_TARGET_DIR to it). Returns the copy's path.
 */
export function copyPipelinesForFakes(projectRoot: string, root: string, serverUrl: string): string {
  const pipelines = path.join(root, 'pipelines');
  cpSync(path.join(projectRoot, 'pipelines'), pipelines, { recursive: true });
  const platform = path.join(pipelines, 'platform.yaml');
  const text = readFileSync(platform, 'utf8');
  if (!text.includes('openmetadata_url: http://localhost:8585/api')) throw new Error('pipelines/platform.yaml no longer sets the dev openmetadata_url');
  const dev = "    description: A developer's machine, with OpenMetadata and Dagster on localhost.\n";
  if (!text.includes(dev)) throw new Error('pipelines/platform.yaml no longer describes the dev environment as expected');
  // The fake CLI is steered by FAKE_OM_* variables: steps inherit them only when allowed.
  const steered = text.replace(dev, `${dev}    inherit_env: [FAKE_OM_*]\n`);
  writeFileSync(platform, steered.replace('openmetadata_url: http://localhost:8585/api', `openmetadata_url: ${serverUrl}`));
  for (const f of readdirSync(path.join(pipelines, 'openmetadata'))) {
    const p = path.join(pipelines, 'openmetadata', f);
    writeFileSync(p, readFileSync(p, 'utf8').replace(/delay: \d+m\b/g, 'delay: 50ms'));
  }
  mkdirSync(path.join(root, 'dbt-target'));
  for (const f of ['manifest.json', 'catalog.json', 'run_results.json']) writeFileSync(path.join(root, 'dbt-target', f), '{}');
  return pipelines;
}
