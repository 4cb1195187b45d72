import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { JWT_PLACEHOLDER, jwtIsExpandable, renderWorkflow, workflowYaml } from '../../src/handlers/openmetadata/render.js';
import { SUBCOMMANDS, pipelineTypeOf, subcommandFor } from '../../src/handlers/openmetadata/subcommand.js';
import { renderStep } from '../../src/handlers/openmetadata/index.js';
import { resolveSettings } from '../../src/handlers/openmetadata/settings.js';
import { asset, env, trinoConfig } from './helpers.js';
import { openMetadataClis } from '../support/peers.js';
import { realVerdicts } from '../support/real-openmetadata/index.js';

describe('renderWorkflow', () => {
  it('adds the metadata-rest sink and the server connection with the JWT as an environment reference', () => {
    const r = renderWorkflow(trinoConfig(), 'http://om.example.org/api');
    expect(r.workflow.sink).toEqual({ type: 'metadata-rest', config: {} });
    expect(r.workflow.workflowConfig).toEqual({
      loggerLevel: 'INFO',
      openMetadataServerConfig: { hostPort: 'http://om.example.org/api', authProvider: 'openmetadata', securityConfig: { jwtToken: JWT_PLACEHOLDER } },
    });
    expect(JWT_PLACEHOLDER).toBe('${RUNNER_OPENMETADATA_JWT}');
    expect(Object.keys(r.workflow)).toEqual(['source', 'sink', 'workflowConfig']);
    expect(r.subcommand).toBe('ingest');
    expect(r.pipelineType).toBe('DatabaseMetadata');
  });

  it('keeps workflowConfig overrides but always sets the server connection itself', () => {
    const r = renderWorkflow(trinoConfig({ workflowConfig: { loggerLevel: 'DEBUG', config: { a: 'b' } } }), 'http://x/api', 'TOKEN');
    expect(r.workflow.workflowConfig).toMatchObject({ loggerLevel: 'DEBUG', config: { a: 'b' }, openMetadataServerConfig: { securityConfig: { jwtToken: 'TOKEN' } } });
  });

  it('renders a usage workflow as query-parser → table-usage → metadata-usage, without a sink, which the real CLI parses', async () => {
    const cfg = trinoConfig();
    (cfg.source as any).type = 'trino-usage';
    (cfg.source as any).sourceConfig.config = { type: 'DatabaseUsage', queryLogDuration: 7, stageFileLocation: '/tmp/trino_usage' };
    const r = renderWorkflow(cfg, 'http://x/api');
    expect(r.subcommand).toBe('usage');
    expect(r.workflow.sink).toBeUndefined();
    expect(r.workflow.processor).toEqual({ type: 'query-parser', config: {} });
    expect(r.workflow.stage).toEqual({ type: 'table-usage', config: { filename: '/tmp/trino_usage' } });
    expect(r.workflow.bulkSink).toEqual({ type: 'metadata-usage', config: { filename: '/tmp/trino_usage' } });
    const clis = openMetadataClis();
    for (const cli of [clis.team, clis.newest]) expect({ v: cli.version, ...(await realVerdicts(cli, new Map([['usage', r.workflow]]))).get('usage') }).toEqual({ v: cli.version, valid: true, error: null });
  }, 300_000);

  it('writes jwtToken double-quoted so that the expanded token stays one scalar', () => {
    const text = workflowYaml(renderWorkflow(trinoConfig(), 'http://x/api').workflow, ' header');
    expect(text).toContain('jwtToken: "${RUNNER_OPENMETADATA_JWT}"');
    expect(text.startsWith('# header\n')).toBe(true);
    const expanded = text.replace('${RUNNER_OPENMETADATA_JWT}', 'eyJhbGciOi.eyJzdWIi: #x.sig-_');
    expect(YAML.parse(expanded).workflowConfig.openMetadataServerConfig.securityConfig.jwtToken).toBe('eyJhbGciOi.eyJzdWIi: #x.sig-_');
  });

  it('accepts only tokens that survive expansion unchanged', () => {
    expect(jwtIsExpandable('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJl-_')).toBe(true);
    for (const bad of ['a b', 'a"b', 'a\\b', 'a$b', 'a\nb', '']) expect(jwtIsExpandable(bad)).toBe(false);
  });
});

describe('sub-command per pipeline type', () => {
  it('maps each type as the OpenMetadata 1.10 docs say', () => {
    expect(subcommandFor('DatabaseMetadata')).toBe('ingest');
    expect(subcommandFor('DashboardMetadata')).toBe('ingest');
    expect(subcommandFor('PipelineMetadata')).toBe('ingest');
    expect(subcommandFor('StorageMetadata')).toBe('ingest');
    expect(subcommandFor('DatabaseLineage')).toBe('ingest');
    expect(subcommandFor('DBT')).toBe('ingest');
    expect(subcommandFor('DatabaseUsage')).toBe('usage');
    expect(subcommandFor('Profiler')).toBe('profile');
    expect(subcommandFor('TestSuite')).toBe('test');
    expect(subcommandFor('AutoClassification')).toBe('classify');
    expect(subcommandFor(undefined)).toBe('ingest');
    expect(new Set(Object.values(SUBCOMMANDS))).toEqual(new Set(['ingest', 'usage', 'profile', 'test', 'classify']));
  });

  it('recognises a config without `type` by its shape, as OpenMetadata\'s schema does', () => {
    expect(pipelineTypeOf({ includeLineage: true, markDeletedPipelines: true })).toBe('PipelineMetadata');
    expect(pipelineTypeOf({ dbtConfigSource: { dbtConfigType: 'local', dbtManifestFilePath: 'm' } })).toBe('DBT');
    expect(pipelineTypeOf({ schemaFilterPattern: {}, includeViews: true })).toBe('DatabaseMetadata');
    expect(pipelineTypeOf({ profileSample: 10 })).toBe('Profiler');
    expect(pipelineTypeOf({ stageFileLocation: '/tmp/x' })).toBe('DatabaseUsage');
    expect(pipelineTypeOf({ processViewLineage: true })).toBe('DatabaseLineage');
    expect(pipelineTypeOf({ containerFilterPattern: {} })).toBe('StorageMetadata');
    expect(pipelineTypeOf('nope')).toBeUndefined();
  });
});

describe('renderStep (runner render)', () => {
  it('shows the command with its sub-command, the file with the JWT reference, and masks the JWT variable', () => {
    const cfg = trinoConfig();
    (cfg.source as any).sourceConfig.config = { type: 'Profiler' };
    cfg.processor = { type: 'orm-profiler', config: {} };
    const r = renderStep({ asset: asset('openmetadata/trino/profiling', cfg), config: cfg as any, env: env(), projectDir: '/p' });
    expect(r.command[0]).toBe('metadata');
    expect(r.command.slice(1, 3)).toEqual(['profile', '-c']);
    expect(r.command[3]).toMatch(/runner-om-<pid>-XXXXXX\/workflow\.yaml$/);
    expect(r.env).toEqual({ RUNNER_OPENMETADATA_JWT: '***', PYTHONUNBUFFERED: '1' });
    expect(r.files![0]!.name).toBe('workflow.yaml');
    expect(YAML.parse(r.files![0]!.content).processor).toEqual({ type: 'orm-profiler', config: {} });
  });

  it('fails with a clear message when the environment has no server URL', () => {
    const e = { name: 'qa', vars: {}, openmetadata: {} };
    expect(() => renderStep({ asset: asset('a', trinoConfig()), config: trinoConfig() as any, env: e, projectDir: '/p' })).toThrow(/environment `qa`: the OpenMetadata server URL \(\$\{var:openmetadata_url\}\): variable `openmetadata_url` is not defined/);
  });
});

describe('settings', () => {
  it('defaults to ${var:openmetadata_url}, ${secret:openmetadata_jwt}, [metadata] and docker', () => {
    const s = resolveSettings(env('http://om/api/'));
    expect(s).toEqual({ ok: true, value: { url: 'http://om/api', jwtRef: '${secret:openmetadata_jwt}', jwtSecrets: ['openmetadata_jwt'], runner: { kind: 'command', argv: ['metadata'] } } });
    const c = resolveSettings(env('http://om/api', { image: 'openmetadata/ingestion:1.10.4', jwt: '${secret:bot_jwt}' }));
    expect(c.ok && c.value.runner).toEqual({ kind: 'container', image: 'openmetadata/ingestion:1.10.4', engine: 'docker' });
    expect(c.ok && c.value.jwtSecrets).toEqual(['bot_jwt']);
    expect(resolveSettings(env('ftp://x')).ok).toBe(false);
  });
});
