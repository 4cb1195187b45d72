/**
 * An environment with `openmetadata: {install: {version: server}}`, end to end through the
 * built CLI: no `metadata` on PATH, a fake `python3` (test/support/fake-python) and the
 * fake server. `check --online` names the release it resolves to; the first run installs
 * one venv with the plugins of every selected connector (progress in the step log, one
 * install although two steps start together) and runs its `metadata`; the next run calls
 * no installer; `render` shows the venv's executable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliEntry, runCli } from '../execution/cli-entry.js';
import { fakeJwt, startFakeOpenMetadataServer, type FakeOpenMetadataServer } from '../support/fake-openmetadata/index.js';
import { FAKE_PYTHON_DIR, fakePythonCalls } from '../support/fake-python/index.js';

const JWT = fakeJwt('install');
let server: FakeOpenMetadataServer;
let root: string;
let pipelines: string;
let home: string;
let calls: string;
let omRecord: string;

const PIPELINE = (url: string, version: string) => `environments:
  dev:
    vars: {openmetadata_url: "${url}"}
    openmetadata:
      install: {version: "${version}"}
    inherit_env: [FAKE_OM_*]
secrets:
  openmetadata_jwt: {env: OPENMETADATA_JWT_TOKEN}
  trino_password: {env: TRINO_PASSWORD}
notifications:
  - name: team
    on: [run_failure]
    slack: {webhook: "\${env:SLACK_HOOK}"}
assets:
  - key: om/trino/metadata
    handler: openmetadata
    config:
      source:
        type: trino
        serviceName: starburst_galaxy
        serviceConnection: {config: {type: Trino, hostPort: "trino.example.org:443", username: svc}}
        sourceConfig: {config: {type: DatabaseMetadata}}
  - key: om/dagster/metadata
    handler: openmetadata
    config:
      source:
        type: dagster
        serviceName: dagster
        serviceConnection: {config: {type: Dagster, host: "http://127.0.0.1:3000"}}
        sourceConfig: {config: {type: PipelineMetadata}}
`;

function cli(args: string[]) {
  return runCli(args, {
    cwd: root,
    env: {
      // No `metadata` on PATH: only the venv's can run.
      PATH: `${FAKE_PYTHON_DIR}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}/usr/bin:/bin`,
      RUNNER_HOME: home,
      RUNNER_ENV: 'dev',
      OPENMETADATA_JWT_TOKEN: JWT,
      FAKE_PY_LOG: calls,
      FAKE_PIP_VERSIONS: '1.11.0.0,1.10.4.2,1.10.4.1,1.9.7.0',
      FAKE_OM_RECORD: omRecord,
      // Credentials of the runner and a declared secret's variable: no installer may see them.
      VAULT_TOKEN: 's.runner-token',
      TRINO_PASSWORD: 'trino-pw',
      SLACK_HOOK: 'https://hooks.slack.com/services/T/B/x',
    },
  });
}

beforeAll(async () => {
  server = await startFakeOpenMetadataServer({ jwt: JWT });
  root = mkdtempSync(path.join(tmpdir(), 'om-install-'));
  home = path.join(root, 'home');
  calls = path.join(root, 'python-calls.jsonl');
  omRecord = path.join(root, 'om.jsonl');
  pipelines = path.join(root, 'pipelines');
  mkdirSync(pipelines);
  writeFileSync(path.join(pipelines, 'om.yaml'), PIPELINE(server.url, 'server'));
  await cliEntry();
}, 120_000);
afterAll(async () => {
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const venv = () => path.join(home, 'tools', 'openmetadata-1.10.4.2-dagster+trino');

describe('openmetadata.install', () => {
  it('check --online resolves `server` to the newest release of the server\'s major.minor', async () => {
    const r = await cli(['check', '-p', pipelines, '--online', '--json']);
    const rows = Object.fromEntries(JSON.parse(r.stdout).checks.map((c: { name: string }) => [c.name, c]));
    expect(rows['openmetadata CLI']).toMatchObject({
      ok: true,
      detail: `openmetadata-ingestion[dagster,trino]==1.10.4.2 (openmetadata.install.version server) is not installed yet: the first step installs it under ${path.join(home, 'tools')}`,
    });
    expect(rows['openmetadata versions']).toMatchObject({ ok: true, detail: 'CLI 1.10.4.2 and server 1.10.4 match (1.10)' });
    expect(r.code).toBe(0);
    expect(fakePythonCalls(calls).map((c) => c.argv.slice(0, 3))).toEqual([['-m', 'pip', 'index']]);
  });

  it('the first run installs one venv with both plugins, shows it in the log, and runs its metadata', async () => {
    const r = await cli(['materialize', '-p', pipelines, '--select', '*', '--output', 'plain']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`openmetadata: installing openmetadata-ingestion[dagster,trino]==1.10.4.2 into ${venv()} (pip)`);
    expect(r.stdout).toContain('Successfully installed openmetadata-ingestion-1.10.4.2');
    const py = fakePythonCalls(calls);
    expect(py.filter((c) => c.argv[1] === 'venv')).toHaveLength(1);
    expect(py.filter((c) => c.argv[2] === 'install').map((c) => c.argv.find((a) => a.includes('==')))).toEqual(['openmetadata-ingestion[dagster,trino]==1.10.4.2']);
    const ran = readFileSync(omRecord, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'workflow');
    expect(ran.map((e: { source: string }) => e.source).sort()).toEqual(['dagster', 'trino']);
    // pip index, venv, pip install, metadata --version: none started with a credential.
    expect(py.length).toBeGreaterThanOrEqual(3);
    for (const c of py) {
      expect(c.envNames).toContain('FAKE_PY_LOG');
      for (const name of ['VAULT_TOKEN', 'TRINO_PASSWORD', 'OPENMETADATA_JWT_TOKEN', 'SLACK_HOOK']) expect(c.envNames).not.toContain(name);
    }
  });

  it('the next run installs nothing, and render shows the venv\'s metadata', async () => {
    const before = fakePythonCalls(calls).filter((c) => c.argv[1] !== 'pip' || c.argv[2] !== 'index').length;
    const r = await cli(['materialize', '-p', pipelines, '--select', 'om/trino/metadata', '--output', 'plain']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('installing');
    expect(fakePythonCalls(calls).filter((c) => c.argv[1] !== 'pip' || c.argv[2] !== 'index')).toHaveLength(before);
    // render asks no server: `server` shows as a placeholder; a pinned release finds the venv.
    const shown = await cli(['render', '-p', pipelines, 'om/trino/metadata']);
    expect(shown.stdout).toContain(`# command: ${path.join(home, 'tools', 'openmetadata-<server>-trino')}/bin/metadata ingest -c `);
    writeFileSync(path.join(pipelines, 'om.yaml'), PIPELINE(server.url, '1.10.4.2'));
    try {
      const pinned = await cli(['render', '-p', pipelines, 'om/trino/metadata']);
      expect(pinned.stdout).toContain(`# command: ${venv()}/bin/metadata ingest -c `);
    } finally {
      writeFileSync(path.join(pipelines, 'om.yaml'), PIPELINE(server.url, 'server'));
    }
  });

  it('a pinned release the server does not match fails check --online, naming the match', async () => {
    writeFileSync(path.join(pipelines, 'om.yaml'), PIPELINE(server.url, '1.9.7.0'));
    try {
      const r = await cli(['check', '-p', pipelines, '--online', '--json']);
      expect(r.code).toBe(1);
      const row = JSON.parse(r.stdout).checks.find((c: { name: string }) => c.name === 'openmetadata versions');
      expect(row).toMatchObject({ ok: false, detail: 'CLI 1.9.7.0 vs server 1.10.4: major.minor must match; set environments.dev.openmetadata.install.version to `server` or `1.10.*` (the matching release is 1.10.4.2)' });
    } finally {
      writeFileSync(path.join(pipelines, 'om.yaml'), PIPELINE(server.url, 'server'));
    }
  });
});
