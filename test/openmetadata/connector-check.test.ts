import { describe, expect, it } from 'vitest';
import { checkConnectorTypes, knownServiceType, serviceOfSourceType } from '../../src/handlers/openmetadata/connector-check.js';
import schema from '../../schemas/handlers/openmetadata.schema.json' with { type: 'json' };
import { trinoConfig } from './helpers.js';

describe('connector types', () => {
  it('reads a source type as the CLI does (class_helper._clean)', () => {
    expect(serviceOfSourceType('trino-lineage')).toBe('trino');
    expect(serviceOfSourceType('Trino_usage')).toBe('trino');
    expect(serviceOfSourceType('azure-sql')).toBe('azuresql');
    expect(serviceOfSourceType('metadata-elasticsearch')).toBe('metadataes');
    expect(knownServiceType('azuresql')).toBe('AzureSQL');
    expect(knownServiceType('dbt')).toBe('Dbt');
    expect(knownServiceType('kafka')).toBe('Kafka');
    expect(knownServiceType('redsh')).toBeUndefined();
  });

  it('knows every connection type the config schema accepts', () => {
    const types = (schema as unknown as { definitions: { ConnectionConfig: { properties: { type: { enum: string[] } } } } }).definitions.ConnectionConfig.properties.type.enum;
    expect(types).toEqual(['Trino', 'Iceberg', 'Redash', 'Superset', 'Airbyte', 'Dagster', 'S3']);
    for (const t of types) expect(knownServiceType(t), t).toBe(t);
  });

  it('passes a matching pair, a reference and a custom connector; names the place of a bad one', () => {
    expect(checkConnectorTypes(trinoConfig())).toEqual([]);
    expect(checkConnectorTypes({ source: { type: '${var:om_source}' } })).toEqual([]);
    expect(checkConnectorTypes({ source: { type: 'custom-thing' } })).toEqual([]);
    expect(checkConnectorTypes({ source: { type: 'trino-usage', serviceConnection: { config: { type: 'Redash' } } } })).toEqual([
      { path: ['source', 'serviceConnection', 'config', 'type'], message: '`Redash` does not match source type `trino-usage`: its connection type is `Trino` (or, for a Redash connection, source type `redash-usage`)' },
    ]);
    expect(checkConnectorTypes({ source: { type: 'snowflak' } })).toEqual([{ path: ['source', 'type'], message: "`snowflak` is not a source type OpenMetadata knows (did you mean 'snowflake'?)" }]);
  });
});
