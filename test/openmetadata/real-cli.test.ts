/**
 * The real `metadata` CLI (openmetadata-ingestion 1.7.7.4, the team's line, installed by
 * scripts/peers/openmetadata.mjs) run by `runner materialize` against the OpenMetadata
 * server double, on its failure paths: a server of another major.minor (the CLI's own
 * mismatch message), a refused JWT, a Trino source at a closed loopback port (a real init
 * error). Each asserts the step's result, its error line and the Slack text. The outputs
 * are written to $RUNNER_CAPTURE_DIR when set (how test/fixtures/openmetadata-cli/ was made).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliEntry, runCli } from '../execution/cli-entry.js';
import { fakeJwt, startFakeOpenMetadataServer, type FakeOpenMetadataServer } from '../support/fake-openmetadata/index.js';
import { FakeSlack } from '../support/fake-slack.js';
import { openMetadataClis } from '../support/peers.js';

const JWT = fakeJwt('real');
const cli = openMetadataClis().team;
let server: FakeOpenMetadataServer;
let slack: FakeSlack;
let root: string;
let closedPort: number;

/** A port nothing listens on: bound, then closed. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function project(dir: string, url: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'platform.yaml'), `environments:
  default: dev
  dev:
    vars: {openmetadata_url: "${url}"}
    openmetadata: {cli: ["${cli.metadata}"]}
secrets:
  openmetadata_jwt: {env: OPENMETADATA_JWT_TOKEN}
  slack_webhook: {env: SLACK_WEBHOOK_URL}
notifications:
  - name: run_failure_slack
    on: [run_failure]
    slack: {webhook: "\${secret:slack_webhook}"}
assets:
  - key: openmetadata/trino/metadata
    handler: openmetadata
    config:
      source:
        type: trino
        serviceName: starburst_galaxy
        serviceConnection:
          config: {type: Trino, hostPort: "127.0.0.1:${closedPort}", username: svc, catalog: ol_warehouse}
        sourceConfig: {config: {type: DatabaseMetadata}}
`);
  return dir;
}

async function materialize(name: string, url: string, jwt = JWT) {
  const dir = project(path.join(root, name), url);
  const r = await runCli(['materialize', '-p', dir, '--select', 'openmetadata/trino/metadata', '--output', 'plain'], {
    env: { RUNNER_HOME: path.join(dir, '.home'), OPENMETADATA_JWT_TOKEN: jwt, SLACK_WEBHOOK_URL: slack.url, PYTHONWARNINGS: 'ignore' },
  });
  const runs = JSON.parse((await runCli(['runs', '--json', '-p', dir], { env: { RUNNER_HOME: path.join(dir, '.home') } })).stdout).runs;
  const shown = JSON.parse((await runCli(['show', runs[0].id, '--json', '-p', dir], { env: { RUNNER_HOME: path.join(dir, '.home') } })).stdout);
  const step = shown.steps[0];
  if (process.env.RUNNER_CAPTURE_DIR) {
    mkdirSync(process.env.RUNNER_CAPTURE_DIR, { recursive: true });
    writeFileSync(path.join(process.env.RUNNER_CAPTURE_DIR, `${cli.version}-${name}.txt`), r.stdout + r.stderr);
  }
  const text = JSON.stringify(slack.accepted.at(-1) ?? {});
  return { r, step, text };
}

beforeAll(async () => {
  closedPort = await freePort();
  server = await startFakeOpenMetadataServer({ jwt: JWT, version: cli.version });
  slack = await FakeSlack.start();
  root = mkdtempSync(path.join(tmpdir(), 'om-real-'));
  await cliEntry();
}, 120_000);

afterAll(async () => {
  await server?.close();
  await slack?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe(`the real metadata CLI ${cli.version} through runner materialize`, () => {
  it('a server of another major.minor: the step fails with the CLI\'s own mismatch message and what to install', async () => {
    // The runner's preflight is told the matching version (it would stop the step itself);
    // the CLI's own client is told 1.6.2.
    server.setPythonClient({ version: '1.6.2' });
    const { r, step, text } = await materialize('mismatch', server.url);
    server.setPythonClient(undefined);
    expect(r.code).toBe(1);
    expect(step.status).toBe('failure');
    const first = step.error.split('\n');
    expect(first[0]).toBe('`metadata ingest` exited with code 1');
    expect(first[1]).toBe(`Server version is 1.6.2 vs. Client version ${cli.version}. Major and minor versions should match. Install openmetadata-ingestion~=1.6.0 (or the openmetadata/ingestion image of the server's version).`);
    expect(step.metadata).toMatchObject({ exit_code: 1, outcome: 'failed' });
    expect(text).toContain('Server version is 1.6.2 vs. Client version');
    expect(text).not.toContain(JWT);
  }, 300_000);

  it('a refused JWT (401): the step fails naming the refusal', async () => {
    server.setPythonClient({ refuseJwt: true });
    const { r, step, text } = await materialize('unauthorized', server.url);
    server.setPythonClient(undefined);
    expect(r.code).toBe(1);
    expect(step.status).toBe('failure');
    expect(step.error).toMatch(/^`metadata ingest` exited with code 1\n/);
    expect(step.error).toMatch(/Error initializing metadata: .*(401|Not Authorized|Token)/i);
    expect(text).toMatch(/401|Not Authorized|Token/i);
  }, 300_000);

  it('a Trino source at a closed port: the real init error', async () => {
    const { r, step, text } = await materialize('closed-port', server.url);
    expect(r.code).toBe(1);
    expect(step.status).toBe('failure');
    // The client fetches the Trino test-connection steps from the server double, then runs
    // CheckAccess, whose failure ends the workflow's creation; the step shows why.
    expect(step.error).toMatch(/^`metadata ingest` exited with code 1\nError initializing metadata: Failed to run the test connection step: CheckAccess\n.*CheckAccess-\S/);
    expect(server.requests.some((q) => q.path === '/api/v1/services/testConnectionDefinitions/name/Trino.testConnectionDefinition' && q.authorized)).toBe(true);
    expect(text).toContain('Error initializing metadata');
  }, 300_000);
});
