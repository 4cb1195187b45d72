import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { checkPluginName, connectorOf, knownExtras, pluginOf, pluginsFor } from '../../src/tools/plugins.js';
import { pluginsOfConfigs } from '../../src/handlers/openmetadata/cli-tool.js';
import { loadDefinitionsSync } from '../../src/definitions/load.js';
import type { OpenMetadataConfig } from '../../src/handlers/openmetadata/types.js';
import { PROJECT_ROOT } from '../support/bundle.js';

describe('plugin sets', () => {
  it('maps each source type to the extra of its connector', () => {
    expect(connectorOf('trino-lineage')).toBe('trino');
    expect(connectorOf('Trino-usage')).toBe('trino');
    expect(pluginOf('trino')).toBe('trino');
    expect(pluginOf('trino-usage')).toBe('trino');
    expect(pluginOf('dbt')).toBe('dbt');
    expect(pluginOf('mongodb')).toBe('mongo');
    expect(pluginOf('saphana')).toBe('sap-hana');
    // Airbyte's client is a base dependency: no extra.
    expect(pluginOf('airbyte')).toBeUndefined();
    expect(pluginOf('no-such-connector')).toBeUndefined();
  });

  it('knows the extras of the real 1.7 and 2.0 wheels, and leaves out what a release lacks', () => {
    expect(knownExtras('1.7.7.4')).toContain('trino');
    expect(knownExtras('1.7.0.0')).toEqual(knownExtras('1.7.7.4'));
    expect(knownExtras('1.10.4')).toBeUndefined();
    expect(pluginsFor('2.0.7.0', ['trino', 'iceberg', 's3'])).toEqual({ plugins: ['s3', 'trino'], dropped: ['iceberg'] });
    expect(pluginsFor('1.7.7.4', ['trino', 'iceberg', 's3'])).toEqual({ plugins: ['iceberg', 'trino'], dropped: ['s3'] });
    // A release whose extras are not recorded gets what was asked, sorted and deduplicated.
    expect(pluginsFor('1.10.4', ['trino', 'dbt', 'trino'])).toEqual({ plugins: ['dbt', 'trino'], dropped: [] });
  });

  it('names the closest extra for a misspelt plugin', () => {
    expect(checkPluginName('trino', '1.7.7.4')).toBeUndefined();
    expect(checkPluginName('trnio', '1.7.7.4')).toBe("openmetadata-ingestion 1.7.7.4 has no plugin `trnio` (did you mean 'trino'?)");
    expect(checkPluginName('s3', '1.7.7.4')).toMatch(/^openmetadata-ingestion 1\.7\.7\.4 has no plugin `s3`/);
    expect(checkPluginName('s3')).toBeUndefined();
    expect(checkPluginName('Trino;rm')).toMatch(/is not a pip extra name/);
  });

  it('the project\'s 12 workflows need seven plugins', () => {
    const r = loadDefinitionsSync(path.join(PROJECT_ROOT, 'pipelines'), { cacheDir: false });
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    const configs = [...r.value.defs.assets.values()].filter((a) => a.handler === 'openmetadata').map((a) => a.config as unknown as OpenMetadataConfig);
    expect(configs).toHaveLength(12);
    expect(pluginsOfConfigs(configs)).toEqual(['dagster', 'dbt', 'iceberg', 'redash', 's3', 'superset', 'trino']);
  });
});
