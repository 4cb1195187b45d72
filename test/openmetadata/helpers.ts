/** Shared pieces of the openmetadata handler tests. */
import type { ResolvedEnvironment } from '../../src/definitions/environment.js';
import type { AssetDef } from '../../src/definitions/model.js';

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
