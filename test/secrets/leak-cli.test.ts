/**
 * The same leak check as leak.test.ts, through the real CLI: `runner materialize` with a
 * step that prints a known secret and fails, then every output, file under RUNNER_HOME and
 * `runner show --json` is searched for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundle } from '../support/bundle.js';
import { FakeVault } from '../support/fake-vault.js';
import { FakeSlack } from '../support/fake-slack.js';
import { formsOf } from '../../src/secrets/masker.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const SECRET = 'Cli-S3cret Value/+=42';
const ROOT = 'hvs.cli-leak-root';

let cli: string;
let dir: string;
let vault: FakeVault;
let slack: FakeSlack;

const LEAK = 'const v = process.env.PW; console.log("raw " + v); console.log("b64 " + Buffer.from(v).toString("base64")); console.error("url " + encodeURIComponent(v)); process.exit(4);';

describe('runner materialize with a known secret (CLI)', () => {
  beforeAll(async () => {
    cli = await bundle('src/cli/main.ts');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-leak-cli-'));
    slack = await FakeSlack.start();
    vault = await FakeVault.start({ tokens: { [ROOT]: {} }, kv1: { 'secret-data': { 'dagster/app': { password: SECRET }, 'dagster/slack': { webhook_url: slack.url } } } });
    fs.mkdirSync(path.join(dir, 'pipelines'));
    fs.writeFileSync(
      path.join(dir, 'pipelines', 'leak.yaml'),
      `environments:
  default: production
  production:
    vars: {ui_url: "http://localhost:3070"}
    vault: {address: "\${env:TEST_VAULT_ADDR}", auth: {method: token}}
secrets:
  app_password:
    env: APP_PASSWORD
    vault: {mount: secret-data, path: dagster/app, field: password}
  slack_webhook:
    env: SLACK_WEBHOOK_URL
    vault: {mount: secret-data, path: dagster/slack, field: webhook_url}
notifications:
  - name: run_failure_slack
    on: [run_failure]
    slack: {webhook: "\${secret:slack_webhook}"}
assets:
  - key: app/leaky
    handler: command
    config:
      run: [${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(LEAK)}]
      env: {PW: "\${secret:app_password}"}
  - key: app/plain
    handler: command
    config: {run: [${JSON.stringify(process.execPath)}, "-e", "console.log('plain')"]}
`,
    );
  }, 60_000);
  afterAll(async () => {
    await vault?.close();
    await slack?.close();
  });

  function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = { PATH: process.env.PATH ?? '', HOME: dir, RUNNER_HOME: path.join(dir, '.runner'), VAULT_TOKEN: ROOT, TEST_VAULT_ADDR: vault.url };
    return new Promise((resolve) => {
      execFile(process.execPath, [cli, ...args], { cwd: dir, env, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  it('fails, alerts once, and the secret appears in no output, file or stored row', async () => {
    const outputs: string[] = [];
    for (const output of ['plain', 'json']) {
      const r = await run(['materialize', '--select', '*', '--output', output]);
      expect(r.code).toBe(1);
      outputs.push(r.stdout, r.stderr);
    }
    expect(outputs.join('\n')).toContain('raw ***');
    expect(slack.received).toHaveLength(2); // one per failed run
    const runs = await run(['runs', '--json']);
    outputs.push(runs.stdout, runs.stderr);
    const ids = (JSON.parse(runs.stdout) as { runs: Array<{ id: string; alert: { status: string } | null }> }).runs;
    expect(ids.map((r) => r.alert?.status)).toEqual(['sent', 'sent']);
    for (const { id } of ids) {
      const show = await run(['show', id, '--json']);
      const logs = await run(['logs', id]);
      outputs.push(show.stdout, show.stderr, logs.stdout, logs.stderr);
    }
    const files = (function walk(p: string): string[] {
      return fs.readdirSync(p, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(p, e.name)) : [path.join(p, e.name)]));
    })(path.join(dir, '.runner'));
    const haystacks = [...outputs, ...slack.received.map((m) => JSON.stringify(m.payload)), ...files.map((f) => fs.readFileSync(f).toString('latin1'))];
    const needles = [...formsOf(SECRET).filter((f) => f.length >= 4), 's3cr3tW3bh00kT0k3n', ROOT];
    for (const h of haystacks) for (const n of needles) expect(h.includes(n), `a form of a secret leaked: ${h.slice(0, 200)}`).toBe(false);
  });
});
