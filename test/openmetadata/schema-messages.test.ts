import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { SourceFile } from '../../src/definitions/source-file.js';
import { validateHandlerConfig } from '../../src/definitions/validate.js';
import { formatDiagnostic } from '../../src/diagnostics/diagnostic.js';

/** Validates the `config` of the first asset of a pipeline file text, as the loader does; returns `path:line:col: message` lines. */
function check(text: string): string[] {
  const file = new SourceFile('pipelines/test.yaml', text);
  const value = YAML.parse(text, { merge: true }) as { assets: Array<{ config: unknown }> };
  const ds = validateHandlerConfig('openmetadata', value.assets[0]!.config, file, ['assets', 0, 'config']);
  if (!ds) throw new Error('no validator for openmetadata');
  return ds.map(formatDiagnostic);
}

const head = (connection: string, pipeline: string, extra = '') => `assets:
  - key: openmetadata/x/metadata
    handler: openmetadata
    config:
      source:
        type: dagster
        serviceName: dagster_pipelines
        serviceConnection:
          config:
${connection}
        sourceConfig:
          config:
${pipeline}
${extra}`;

describe('the handler schema on pipeline files', () => {
  it('accepts `${...}` references where OpenMetadata wants a URL, and rejects a bare host', () => {
    const pipeline = '            type: PipelineMetadata';
    expect(check(head('            type: Dagster\n            host: "${var:dagster_url}"', pipeline))).toEqual([]);
    expect(check(head('            type: Dagster\n            host: "https://${var:dagster_host}:${var:dagster_port}"', pipeline))).toEqual([]);
    expect(check(head('            type: Dagster\n            host: https://pipelines.odl.mit.edu:443', pipeline))).toEqual([]);
    const bare = check(head('            type: Dagster\n            host: pipelines.odl.mit.edu\n            port: 443', pipeline));
    expect(bare).toEqual([
      "pipelines/test.yaml:12:13: config: unknown property `port` (did you mean 'host', 'supportsMetadataExtraction'?)",
      'pipelines/test.yaml:11:19: host: `pipelines.odl.mit.edu` is not valid: a URI with its scheme (e.g. `https://host:443`), or a string holding a `${env:..}`/`${var:..}`/`${secret:..}` reference (checked again after substitution).',
    ]);
  });

  it('names a missing credential at its place', () => {
    const out = check(head('            type: Redash\n            hostPort: https://bi.odl.mit.edu', '            type: DashboardMetadata').replace('type: dagster', 'type: redash'));
    expect(out).toEqual(['pipelines/test.yaml:10:13: config: missing required property `username`', 'pipelines/test.yaml:10:13: config: missing required property `apiKey`']);
  });

  it('rejects an unknown pipeline type with the known ones', () => {
    const out = check(head('            type: Dagster\n            host: http://x', '            type: PipelineMetdata'));
    expect(out).toEqual([expect.stringMatching(/^pipelines\/test\.yaml:14:19: type: must be one of `DatabaseMetadata`, .*`StorageMetadata`, `DBT`, not `PipelineMetdata` \(did you mean 'PipelineMetadata'\?\)$/)]);
  });

  it('rejects a profiler without a processor', () => {
    const text = head('            type: Trino\n            hostPort: h:443\n            username: u', '            type: Profiler').replace('type: dagster', 'type: trino');
    expect(check(text)).toEqual(['pipelines/test.yaml:5:7: config: missing required property `processor`']);
    expect(check(text + '      processor: {type: orm-profiler, config: {}}\n')).toEqual([]);
  });

  it('rejects a lineage workflow whose source type is not `<connector>-lineage`', () => {
    const text = head('            type: Trino\n            hostPort: h:443\n            username: u', '            type: DatabaseLineage').replace('type: dagster', 'type: trino');
    expect(check(text)).toEqual([expect.stringMatching(/^pipelines\/test\.yaml:6:15: type: `trino` is not valid: a lineage workflow's source type is the connector's name with `-lineage`/)]);
    expect(check(text.replace('type: trino', 'type: trino-lineage'))).toEqual([]);
  });

  it('refuses what the runner sets itself: the sink and the server connection', () => {
    const base = head('            type: Dagster\n            host: http://x', '            type: PipelineMetadata');
    expect(check(base + '      sink: {type: metadata-rest}\n')).toEqual(['pipelines/test.yaml:15:13: sink: is not allowed here']);
    expect(check(base + '      workflowConfig:\n        loggerLevel: DEBUG\n        openMetadataServerConfig: {hostPort: x}\n')).toEqual(['pipelines/test.yaml:17:35: openMetadataServerConfig: is not allowed here']);
    expect(check(base + '      workflowConfig: {loggerLevel: TRACE}\n')).toEqual([expect.stringMatching(/loggerLevel: must be one of `DEBUG`, `INFO`, `WARN`, `ERROR`, not `TRACE`/)]);
  });

  it('rejects the options of newer OpenMetadata versions that this schema set does not know', () => {
    const base = head('            type: Dagster\n            host: http://x', '            type: PipelineMetadata');
    expect(check(base + '      workflowConfig: {successThreshold: 80}\n')).toEqual([expect.stringMatching(/unknown property `successThreshold`/)]);
  });
});
