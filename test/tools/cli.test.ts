/**
 * `runner tools install` and `runner tools list` through the built CLI, with the fake
 * `python3` first on PATH: the stdout contract (the path of `metadata`, or JSON), reuse
 * without a pip call, two installs at once (one installs, the other waits and reuses),
 * `--env` (version and plugins from the pipeline files), bad input (exit 2) and a failed
 * install (exit 1 with pip's error lines).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliEntry, runCli, startCli } from '../execution/cli-entry.js';
import { FAKE_PYTHON_DIR, fakePythonCalls } from '../support/fake-python/index.js';
import { fakeJwt, startFakeOpenMetadataServer } from '../support/fake-openmetadata/index.js';

let root: string;
beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'runner-tools-cli-'));
  await cliEntry();
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function setup(name: string) {
  const home = path.join(root, name);
  const log = path.join(home, 'calls.jsonl');
  const env = (extra: Record<string, string> = {}) => ({ PATH: `${FAKE_PYTHON_DIR}${path.delimiter}${process.env.PATH}`, RUNNER_HOME: home, FAKE_PY_LOG: log, ...extra });
  return { home, log, cli: (args: string[], extra?: Record<string, string>) => runCli(args, { cwd: root, env: env(extra) }) };
}

describe('runner tools', () => {
  it('install prints the path of `metadata`; a second install reuses it without pip; list shows it', async () => {
    const { home, log, cli } = setup('basic');
    const metadata = path.join(home, 'tools', 'openmetadata-1.7.7.4-dbt+trino', 'bin', 'metadata');
    const first = await cli(['tools', 'install', 'openmetadata', '--version', '1.7.7.4', '--plugins', 'dbt,trino']);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`${metadata}\n`);
    expect(first.stderr).toContain('Successfully installed openmetadata-ingestion-1.7.7.4');
    const calls = fakePythonCalls(log).length;

    const second = await cli(['tools', 'install', 'openmetadata', '--version', '1.7.7.4', '--plugins', 'trino', '--json']);
    expect(second.code).toBe(0);
    expect(fakePythonCalls(log)).toHaveLength(calls);
    const doc = JSON.parse(second.stdout);
    expect(doc).toEqual({
      name: 'openmetadata',
      package: 'openmetadata-ingestion',
      version: '1.7.7.4',
      plugins: ['dbt', 'trino'],
      metadata,
      dir: path.dirname(path.dirname(metadata)),
      installer: 'pip',
      installed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      installed: false,
      dropped: [],
    });
    expect(second.stderr).toContain(`openmetadata: 1.7.7.4 [dbt,trino] is already installed in ${doc.dir}`);

    const list = await cli(['tools', 'list', '--json']);
    expect(list.code).toBe(0);
    const { installed: _i, dropped: _d, ...record } = doc;
    expect(JSON.parse(list.stdout)).toEqual({ tools: [record] });
    const table = await cli(['tools', 'list']);
    expect(table.stdout).toMatch(new RegExp(`openmetadata +1\\.7\\.7\\.4 +dbt,trino +${metadata.replace(/[.+]/g, '\\$&')}`));
  });

  it('two installs at once: one installs, the other waits for it and reuses its venv', async () => {
    const { log, cli } = setup('concurrent');
    const args = ['tools', 'install', 'openmetadata', '--version', '2.0.7.0', '--plugins', 'trino'];
    const [a, b] = await Promise.all([cli(args, { FAKE_PIP_DELAY_MS: '1500' }), cli(args, { FAKE_PIP_DELAY_MS: '1500' })]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toBe(b.stdout);
    const calls = fakePythonCalls(log);
    expect(calls.filter((c) => c.argv[1] === 'venv')).toHaveLength(1);
    expect(calls.filter((c) => c.argv[2] === 'install')).toHaveLength(1);
    expect([a.stderr, b.stderr].filter((e) => /openmetadata: waiting for process \d+ \(installing openmetadata-ingestion==2\.0\.7\.0/.test(e))).toHaveLength(1);
  }, 60_000);

  it('--env takes the version from the environment and the plugins of its assets', async () => {
    const { home, log, cli } = setup('env');
    const pipelines = path.join(home, 'project', 'pipelines');
    mkdirSync(pipelines, { recursive: true });
    writeFileSync(
      path.join(pipelines, 'p.yaml'),
      `environments:
  dev:
    vars: {openmetadata_url: "http://127.0.0.1:9/api"}
    openmetadata:
      install: {version: "1.7.7.4", plugins: [datalake-s3]}
secrets:
  openmetadata_jwt: {env: OPENMETADATA_JWT_TOKEN}
assets:
  - key: om/trino
    handler: openmetadata
    config:
      source:
        type: trino
        serviceName: t
        serviceConnection: {config: {type: Trino, hostPort: "h:443", username: u}}
        sourceConfig: {config: {type: DatabaseMetadata}}
  - key: om/airbyte
    handler: openmetadata
    config:
      source:
        type: airbyte
        serviceName: a
        serviceConnection: {config: {type: Airbyte, hostPort: "http://a:8000"}}
        sourceConfig: {config: {type: PipelineMetadata}}
`,
    );
    const r = await cli(['tools', 'install', 'openmetadata', '-p', pipelines, '--env', 'dev']);
    expect(r.stderr).toContain('openmetadata-ingestion[datalake-s3,trino]==1.7.7.4');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${path.join(home, 'tools', 'openmetadata-1.7.7.4-datalake-s3+trino', 'bin', 'metadata')}\n`);
    expect(fakePythonCalls(log).at(-1)!.argv).toContain('openmetadata-ingestion[datalake-s3,trino]==1.7.7.4');
  });

  it('--env with version `server` asks the server and installs the newest release of its major.minor', async () => {
    const server = await startFakeOpenMetadataServer({ jwt: fakeJwt('tools') });
    try {
      server.setVersion('1.7.3');
      const { home, cli } = setup('server');
      const pipelines = path.join(home, 'project', 'pipelines');
      mkdirSync(pipelines, { recursive: true });
      writeFileSync(path.join(pipelines, 'p.yaml'), `environments:\n  dev:\n    vars: {openmetadata_url: "${server.url}"}\n    openmetadata:\n      install: {version: server}\n`);
      const r = await cli(['tools', 'install', 'openmetadata', '-p', pipelines, '--env', 'dev'], { FAKE_PIP_VERSIONS: '2.0.7.0,1.7.7.4,1.7.7.3,1.6.0.0' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${path.join(home, 'tools', 'openmetadata-1.7.7.4', 'bin', 'metadata')}\n`);
      await server.close();
      const down = await cli(['tools', 'install', 'openmetadata', '-p', pipelines, '--env', 'dev']);
      expect(down.code).toBe(2);
      expect(down.stderr).toBe(`version \`server\`: ${server.url} did not answer: ECONNREFUSED\n`);
    } finally {
      await server.close().catch(() => undefined);
    }
  });

  it('bad input exits 2 with a message and installs nothing', async () => {
    const { log, cli } = setup('bad');
    const cases: Array<[string[], string]> = [
      [['--version', '1.7.x'], '--version: version `1.7.x` is not a release (`1.7.7.4`), a wildcard (`1.7.*`) or `server`\n'],
      [['--version', '1.7.7.4', '--plugins', 'trnio,dbt'], "--plugins: openmetadata-ingestion 1.7.7.4 has no plugin `trnio` (did you mean 'trino'?)\n"],
    ];
    for (const [extra, message] of cases) {
      const r = await cli(['tools', 'install', 'openmetadata', ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr).toBe(message);
    }
    const unknown = await cli(['tools', 'install', 'dagster', '--version', '1.7.7.4']);
    expect([unknown.code, unknown.stderr]).toEqual([2, 'unknown tool `dagster`; known: openmetadata\n']);
    const noVersion = await cli(['tools', 'install', 'openmetadata', '-p', path.join(root, 'nowhere')]);
    expect(noVersion.code).toBe(2);
    expect(noVersion.stderr).toMatch(/pipelines directory `.*nowhere` does not exist/);
    expect(fakePythonCalls(log)).toEqual([]);
  });

  it('Ctrl-C stops the install with its whole tree and leaves neither venv nor lock (exit 130)', async () => {
    const { home, log } = setup('cancel');
    const run = await startCli(['tools', 'install', 'openmetadata', '--version', '1.7.7.4'], {
      cwd: root,
      env: { PATH: `${FAKE_PYTHON_DIR}${path.delimiter}${process.env.PATH}`, RUNNER_HOME: home, FAKE_PY_LOG: log, FAKE_PIP_DELAY_MS: '60000' },
    });
    const deadline = Date.now() + 30_000;
    while (!run.stderr().includes('Downloading openmetadata_ingestion') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const pip = fakePythonCalls(log).find((c) => c.argv[2] === 'install')!;
    expect(pip).toBeDefined();
    run.child.kill('SIGINT');
    const { code } = await run.exit;
    expect(code).toBe(130);
    expect(run.stderr()).toContain('runner: openmetadata: installing openmetadata-ingestion==1.7.7.4 failed (canceled)');
    expect(() => process.kill(pip.pid, 0)).toThrow();
    expect(existsSync(path.join(home, 'tools', 'openmetadata-1.7.7.4'))).toBe(false);
    expect(existsSync(path.join(home, 'tools', 'install.lock'))).toBe(false);
  }, 60_000);

  it('a failed install exits 1 with pip\'s error lines, and list shows nothing', async () => {
    const { cli } = setup('fail');
    const r = await cli(['tools', 'install', 'openmetadata', '--version', '1.7.7.9'], { FAKE_PIP_FAIL: '1' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('runner: openmetadata: installing openmetadata-ingestion==1.7.7.9 failed (exit code 1):\nERROR: Could not find a version that satisfies the requirement openmetadata-ingestion==1.7.7.9');
    const list = await cli(['tools', 'list']);
    expect(list.stdout).toBe('no tools installed (runner tools install openmetadata --version V)\n');
  });
});
