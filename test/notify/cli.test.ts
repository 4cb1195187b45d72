import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { bundle } from '../support/bundle.js';
import { FakeSlack } from '../support/fake-slack.js';
import { FakeVault } from '../support/fake-vault.js';

/** `runner notify test` through the real CLI entry (bundled), as a child process. */
let cli: string;
let dir: string;
let slack: FakeSlack;

const PIPELINE = `
environments:
  default: dev
  dev:
    vars: {ui_url: "http://localhost:3070"}
  production:
    vars: {ui_url: "https://pipelines.example.org"}
  qa:
    vault: {address: "\${env:TEST_VAULT_ADDR}", auth: {method: token}}
secrets:
  slack_webhook:
    env: SLACK_WEBHOOK_URL
    vault: {mount: secret-data, path: dagster/slack, field: webhook_url}
notifications:
  - name: run_failure_slack
    on: [run_failure]
    slack: {webhook: "\${secret:slack_webhook}"}
`;

beforeAll(async () => {
  cli = await bundle('src/cli/main.ts');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-notify-'));
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.writeFileSync(path.join(dir, 'pipelines', 'alerts.yaml'), PIPELINE);
  slack = await FakeSlack.start();
}, 60_000);
afterAll(async () => {
  await slack?.close();
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: dir, RUNNER_HOME: path.join(dir, '.runner') };
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: dir, env: { ...base, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('runner notify test', () => {
  it('sends a sample alert through the configured webhook (exit 0)', async () => {
    const r = await run(['notify', 'test', '--env', 'production'], { SLACK_WEBHOOK_URL: slack.url });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('alert sent: run_failure_slack: sent to Slack\n');
    expect(r.code).toBe(0);
    const got = slack.received.at(-1)!;
    expect(got.problems).toEqual([]);
    const text = JSON.stringify(got.payload);
    expect(text).toContain('Production Run Failure');
    expect(text).toContain('https://pipelines.example.org/runs/');
    expect(r.stdout + r.stderr).not.toContain(slack.url);
  });

  it('prints the alert when no webhook is configured (exit 0)', async () => {
    const r = await run(['notify', 'test']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^alert printed: run_failure_slack: printed to the terminal/);
    expect(r.stderr).toContain('┌─ Slack alert, not sent: run_failure_slack: webhook secret `slack_webhook`: environment variable SLACK_WEBHOOK_URL is not set');
    expect(r.stderr).toContain('DEV RUN FAILURE');
    expect(r.stderr).toContain('View run: http://localhost:3070/runs/');
  });

  it('reads the webhook from Vault when the variable is not set', async () => {
    const vault = await FakeVault.start({ tokens: { 'hvs.cli-test': {} }, kv1: { 'secret-data': { 'dagster/slack': { webhook_url: slack.url } } } });
    try {
      const before = slack.received.length;
      const r = await run(['notify', 'test', '--env', 'qa'], { TEST_VAULT_ADDR: vault.url, VAULT_TOKEN: 'hvs.cli-test' });
      expect(r.stdout).toBe('alert sent: run_failure_slack: sent to Slack\n');
      expect(r.code).toBe(0);
      expect(slack.received.length).toBe(before + 1);
      expect(vault.calls('secret-data/dagster/slack')[0]!.token).toBe('hvs.cli-test');
    } finally {
      await vault.close();
    }
  });

  it('exits 1 when delivery fails, without printing the webhook', async () => {
    slack.script.push({ status: 404, body: 'no_service' });
    const r = await run(['notify', 'test', '-n', 'run_failure_slack'], { SLACK_WEBHOOK_URL: slack.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('alert failed: run_failure_slack: Slack answered 404 no_service\n');
    expect(r.stdout + r.stderr).not.toContain(slack.url);
  });

  it('exits 2 on an unknown notification name, suggesting the closest', async () => {
    const r = await run(['notify', 'test', '-n', 'run_failure_slak']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("notification `run_failure_slak` does not exist (did you mean 'run_failure_slack'?)");
  });
});
