import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { childEnvironment, stepEnvironment } from '../../src/execution/step-env.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CheckResult } from '../../src/handlers/handler.js';
import type { ResolvedEnvironment } from '../../src/definitions/environment.js';
import { openmetadataHandler } from '../../src/handlers/openmetadata/index.js';
import { majorMinor, parseVersion } from '../../src/handlers/openmetadata/preflight.js';
import { FAKE_CLI, fakeJwt, startFakeOpenMetadataServer, type FakeOpenMetadataServer } from '../support/fake-openmetadata/index.js';
import { asset, env, trinoConfig } from './helpers.js';
import { FAKE_PYTHON_DIR } from '../support/fake-python/index.js';

const JWT = fakeJwt('preflight');
let server: FakeOpenMetadataServer;
let dir: string;

beforeAll(async () => {
  server = await startFakeOpenMetadataServer({ jwt: JWT });
  dir = mkdtempSync(path.join(tmpdir(), 'om-pre-'));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env.FAKE_OM_VERSION;
  server.setVersion('1.10.4');
});

function dbtConfig(target: string) {
  return {
    source: {
      type: 'dbt',
      serviceName: 'starburst_galaxy',
      sourceConfig: { config: { type: 'DBT', dbtConfigSource: { dbtConfigType: 'local', dbtManifestFilePath: `${target}/manifest.json`, dbtCatalogFilePath: `${target}/catalog.json`, dbtRunResultsFilePath: `${target}/run_results.json` } } },
    },
  };
}

async function preflight(e: ResolvedEnvironment, jwt: string | null = JWT, configs: Array<[string, Record<string, unknown>]> = [['openmetadata/trino/metadata', trinoConfig()]]): Promise<CheckResult[]> {
  return openmetadataHandler.preflight!({
    assets: configs.map(([k, c]) => ({ asset: asset(k, c), config: c as any })),
    env: e,
    projectDir: dir,
    secret: async (name) => (name === 'openmetadata_jwt' && jwt !== null ? jwt : undefined),
    // What the executor passes: the fake CLI's FAKE_OM_* let through as `inherit_env` would.
    childEnv: childEnvironment(process.env),
    stepEnv: stepEnvironment({ processEnv: process.env, inherit: ['FAKE_OM_*', 'OPENMETADATA_SPEC_DIR'], denied: new Set() }),
  });
}

const byName = (rows: CheckResult[]) => Object.fromEntries(rows.map((r) => [r.name.replace(/ http\S+/, ''), r]));

describe('openmetadata preflight', () => {
  it('passes when the CLI is there, the server answers with the same major.minor and accepts the token', async () => {
    const rows = await preflight(env(server.url, { cli: [FAKE_CLI] }));
    expect(rows.map((r) => [r.name, r.ok, r.detail])).toEqual([
      ['openmetadata CLI', true, 'metadata 1.10.4 from /opt/venv/lib/python3.11/site-packages/metadata (python 3.11)'],
      [`openmetadata server ${server.url}`, true, 'answers, version 1.10.4'],
      ['openmetadata versions', true, 'CLI 1.10.4 and server 1.10.4 match (1.10)'],
      ['openmetadata token', true, `accepted by ${server.url} (as ingestion-bot)`],
    ]);
    expect(rows.every((r) => r.keys?.join() === 'openmetadata/trino/metadata')).toBe(true);
  });

  it('says both versions and names the matching release when major.minor differ', async () => {
    process.env.FAKE_OM_VERSION = '1.9.7';
    // The package index (a fake `python3 -m pip index versions`) lists the releases.
    const savedPath = process.env.PATH;
    process.env.PATH = `${FAKE_PYTHON_DIR}${path.delimiter}${savedPath}`;
    process.env.FAKE_PIP_VERSIONS = '1.11.0.0,1.10.4.2,1.10.4.1,1.10.3.0,1.9.7.0';
    try {
      const rows = byName(await preflight(env(server.url, { cli: [FAKE_CLI] })));
      expect(rows['openmetadata versions']).toMatchObject({
        ok: false,
        detail: "CLI 1.9.7 vs server 1.10.4: major.minor must match; the matching release is openmetadata-ingestion 1.10.4.2: `pip install 'openmetadata-ingestion==1.10.4.2'`, or let the runner install it: environments.dev.openmetadata.install.version: server",
      });
      // Without an index to ask, the compatible-release form.
      process.env.FAKE_PIP_OFFLINE = '1';
      const offline = byName(await preflight(env(server.url, { cli: [FAKE_CLI] })));
      expect(offline['openmetadata versions']!.detail).toBe("CLI 1.9.7 vs server 1.10.4: major.minor must match; install openmetadata-ingestion~=1.10.0 (e.g. `pip install 'openmetadata-ingestion~=1.10.0'`)");
    } finally {
      process.env.PATH = savedPath;
      delete process.env.FAKE_PIP_VERSIONS;
      delete process.env.FAKE_PIP_OFFLINE;
    }
    // A patch difference is fine.
    process.env.FAKE_OM_VERSION = '1.10.1';
    expect(byName(await preflight(env(server.url, { cli: [FAKE_CLI] })))['openmetadata versions']!.ok).toBe(true);
  });

  it('names the secret and the server when the token is rejected, and never shows it', async () => {
    const wrong = fakeJwt('nope');
    const rows = await preflight(env(server.url, { cli: [FAKE_CLI] }), wrong);
    const token = byName(rows)['openmetadata token']!;
    expect(token).toMatchObject({ ok: false, detail: `the JWT from secret \`openmetadata_jwt\` was rejected by ${server.url} (HTTP 401)` });
    expect(JSON.stringify(rows)).not.toContain(wrong);
    const missing = byName(await preflight(env(server.url, { cli: [FAKE_CLI] }), null))['openmetadata token']!;
    expect(missing).toMatchObject({ ok: false, detail: 'secret `openmetadata_jwt` could not be resolved' });
  });

  it('fails the server check (and skips the checks that need it) when nothing answers', async () => {
    const gone = await startFakeOpenMetadataServer({ jwt: JWT });
    await gone.close();
    const rows = await preflight(env(gone.url, { cli: [FAKE_CLI] }));
    expect(rows.map((r) => r.name)).toEqual(['openmetadata CLI', `openmetadata server ${gone.url}`]);
    expect(rows[1]).toMatchObject({ ok: false, detail: `${gone.url} did not answer: ECONNREFUSED` });
  });

  it('says how to get the CLI when it is not found', async () => {
    const rows = byName(await preflight(env(server.url, { cli: [path.join(dir, 'missing', 'metadata')] })));
    expect(rows['openmetadata CLI']).toMatchObject({ ok: false });
    expect(rows['openmetadata CLI']!.detail).toMatch(/missing\/metadata` not found: install openmetadata-ingestion/);
    expect(rows['openmetadata versions']).toBeUndefined();
  });

  it('names a missing dbt artifact', async () => {
    const target = mkdtempSync(path.join(dir, 'dbt-'));
    writeFileSync(path.join(target, 'manifest.json'), '{}');
    writeFileSync(path.join(target, 'catalog.json'), '{}');
    const rows = await preflight(env(server.url, { cli: [FAKE_CLI] }), JWT, [['openmetadata/dbt/metadata', dbtConfig(target)]]);
    const dbt = rows.find((r) => r.name === 'dbt artifacts of openmetadata/dbt/metadata')!;
    expect(dbt).toEqual({ name: 'dbt artifacts of openmetadata/dbt/metadata', ok: false, detail: `missing: ${target}/run_results.json (dbtRunResultsFilePath); run \`dbt docs generate\` or set DBT_TARGET_DIR`, keys: ['openmetadata/dbt/metadata'] });
    writeFileSync(path.join(target, 'run_results.json'), '{}');
    const again = await preflight(env(server.url, { cli: [FAKE_CLI] }), JWT, [['openmetadata/dbt/metadata', dbtConfig(target)]]);
    expect(again.find((r) => r.name.startsWith('dbt artifacts'))).toMatchObject({ ok: true, detail: '3 files present' });
  });

  it('takes the CLI version of a container image from its tag', async () => {
    const rows = byName(await preflight(env(server.url, { image: 'openmetadata/ingestion:1.10.4', engine: process.execPath })));
    expect(rows['openmetadata CLI']).toMatchObject({ ok: true });
    expect(rows['openmetadata CLI']!.detail).toMatch(/^image openmetadata\/ingestion:1\.10\.4 \(metadata 1\.10\.4\) with v\d+/);
    expect(rows['openmetadata versions']!.ok).toBe(true);
    const latest = byName(await preflight(env(server.url, { image: 'openmetadata/ingestion:latest', engine: process.execPath })));
    expect(latest['openmetadata CLI']!.detail).toBe('image openmetadata/ingestion:latest names no version: the versions are not compared');
  });

  it('parses versions as the CLI and the server print them', () => {
    expect(parseVersion('metadata 1.10.4 from /opt/venv/lib/python3.11/site-packages/metadata (python 3.11)')).toBe('1.10.4');
    expect(parseVersion('1.10.4-SNAPSHOT')).toBe('1.10.4');
    expect(majorMinor('1.10.4')).toBe('1.10');
  });
});
