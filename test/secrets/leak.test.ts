/**
 * End to end through the real executor, run store and `command` handler, with the
 * secrets-and-alerts hooks plugged in as `runner materialize` plugs them: a step prints a
 * known secret (raw, base64, URL-encoded) and fails with it in its error; another step's
 * secret is missing in Vault. Afterwards every file under RUNNER_HOME (database, WAL, logs),
 * every event, the run record and the Slack payload are searched for the secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AssetDef, NotificationDef, SecretDef } from '../../src/definitions/model.js';
import { AssetGraph } from '../../src/graph/asset-graph.js';
import { buildPlan } from '../../src/execution/plan.js';
import { execute } from '../../src/execution/executor.js';
import { FanOut, MemorySink } from '../../src/execution/sinks.js';
import { getHandler } from '../../src/handlers/registry.js';
import { Store } from '../../src/storage/store.js';
import { runHooks } from '../../src/notify/hooks.js';
import { formsOf } from '../../src/secrets/masker.js';
import { FakeVault } from '../support/fake-vault.js';
import { FakeSlack } from '../support/fake-slack.js';

const SECRET = 'Sup3r S3cret/Value+42&x=1';
const ROOT = 'hvs.leak-test-root-token';
const pos = { file: 'pipelines/leak.yaml', line: 1, col: 1 };

let vault: FakeVault;
let slack: FakeSlack;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-leak-'));
  slack = await FakeSlack.start();
  vault = await FakeVault.start({ tokens: { [ROOT]: {} }, kv1: { 'secret-data': { 'dagster/app': { password: SECRET }, 'dagster/slack': { webhook_url: slack.url } } } });
});
afterAll(async () => {
  await vault?.close();
  await slack?.close();
});

function asset(key: string, config: Record<string, unknown>, deps: string[] = []): AssetDef {
  return { key, group: 'g', tags: {}, kinds: [], owners: [], deps, handler: 'command', config, pos, configPath: [] };
}

function filesUnder(root: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    const p = path.join(root, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

describe('a failing run with a known secret value', () => {
  it('never writes the value anywhere, fails only the step whose secret is missing, and alerts once', async () => {
    const marker = path.join(dir, 'missing-step-ran');
    const leakScript = [
      'const v = process.env.PW;',
      'console.log("raw: " + v);',
      'console.log("b64: " + Buffer.from(v).toString("base64"));',
      'console.error("url: " + encodeURIComponent(v));',
      'console.error("fatal: login failed with password " + v);',
      'process.exit(3);',
    ].join('\n');
    const assets = [
      asset('app/leaky', { run: [process.execPath, '-e', leakScript], env: { PW: '${secret:app_password}' } }),
      asset('app/downstream', { run: [process.execPath, '-e', ''] }, ['app/leaky']),
      asset('app/needs_missing', { run: [process.execPath, '-e', `require("fs").writeFileSync(${JSON.stringify(marker)}, "ran")`], env: { T: '${secret:missing_secret}' } }),
      asset('app/plain', { run: [process.execPath, '-e', 'console.log("no secrets here")'] }),
    ];
    const secrets: SecretDef[] = [
      { name: 'app_password', env: 'APP_PASSWORD', vault: { mount: 'secret-data', path: 'dagster/app', field: 'password', kv: 1 }, pos },
      { name: 'missing_secret', env: 'MISSING_SECRET', vault: { mount: 'secret-data', path: 'dagster/absent', field: 'token', kv: 1 }, pos },
      { name: 'slack_webhook', env: 'SLACK_WEBHOOK_URL', vault: { mount: 'secret-data', path: 'dagster/slack', field: 'webhook_url', kv: 1 }, pos },
    ];
    const notifications: NotificationDef[] = [{ name: 'run_failure_slack', on: ['run_failure'], slack: { webhook: '${secret:slack_webhook}' }, pos }];
    const env = { name: 'production', vars: { ui_url: 'http://localhost:3070' }, vault: { address: vault.url, auth: { method: 'token' as const } }, openmetadata: {} };
    const processEnv = { PATH: process.env.PATH, VAULT_TOKEN: ROOT };

    const home = path.join(dir, '.runner');
    const store = Store.open(home);
    const printed: string[] = [];
    const hooks = runHooks({ defs: { secrets: new Map(secrets.map((s) => [s.name, s])), notifications: new Map(notifications.map((n) => [n.name, n])) }, env, store, processEnv, out: { write: (s) => printed.push(s) } });
    const map = new Map(assets.map((a) => [a.key, a]));
    const plan = buildPlan(map.keys(), map, new AssetGraph(new Map(assets.map((a) => [a.key, a.deps]))));
    const runId = '0a1b2c3d-1111-2222-3333-444455556666';
    store.createRun({ id: runId, trigger: { type: 'manual' }, env: env.name, selection: 'app/*', keys: plan.steps.map((s) => s.key), pipelinesDir: dir });
    const memory = new MemorySink();
    const sink = new FanOut([store, memory, ...hooks.sinks]);
    const outcome = await execute({ runId, plan, env, projectDir: dir, handler: getHandler, sink, concurrency: 2, slots: store, processes: store, mask: hooks.mask, resolveSecrets: hooks.resolveSecrets, processEnv });
    await sink.close();
    store.flush();

    const status = Object.fromEntries(outcome.steps.map((s) => [s.key, s.status]));
    expect(status).toEqual({ 'app/leaky': 'failure', 'app/downstream': 'skipped', 'app/needs_missing': 'failure', 'app/plain': 'success' });
    const missing = outcome.steps.find((s) => s.key === 'app/needs_missing')!;
    expect(missing.error).toMatch(/^secret `missing_secret`: Vault at http:\/\/127\.0\.0\.1:\d+: path secret-data\/dagster\/absent not found \(404\) \(or set MISSING_SECRET to override\)$/);
    expect(fs.existsSync(marker)).toBe(false); // its handler never started
    expect(vault.calls('secret-data/dagster/app')).toHaveLength(1);

    // The leaky step's output reached the log, masked.
    const leakyLog = fs.readFileSync(store.logPath(runId, 'app/leaky'), 'utf8');
    expect(leakyLog).toContain('raw: ***');
    expect(leakyLog).toContain('b64: ***');
    expect(leakyLog).toContain('url: ***');
    expect(leakyLog).toContain('fatal: login failed with password ***');

    // One alert, recorded on the run.
    expect(slack.received).toHaveLength(1);
    const record = store.getRun(runId)!;
    expect(record.alert).toMatchObject({ status: 'sent' });
    expect(printed).toEqual([]);
    const payload = JSON.stringify(slack.received[0]!.payload);
    expect(payload).toContain('Production Run Failure');
    expect(payload).toContain('app/needs_missing');
    expect(payload).toContain('***');
    store.close();

    // Search everything for every form of the secret, and for the webhook's credential part.
    const needles = [...formsOf(SECRET).filter((f) => f.length >= 4), 's3cr3tW3bh00kT0k3n', ROOT];
    const haystacks: Array<[string, string]> = [
      ['events', JSON.stringify(memory.events)],
      ['outcome', JSON.stringify(outcome)],
      ['record', JSON.stringify(record)],
      ['slack payload', payload],
      ['printed', printed.join('')],
    ];
    for (const f of filesUnder(home)) haystacks.push([f, fs.readFileSync(f).toString('latin1')]);
    expect(haystacks.length).toBeGreaterThan(6);
    for (const [where, text] of haystacks) {
      for (const n of needles) {
        if (text.includes(n)) throw new Error(`${where} contains a form of a secret: ${JSON.stringify(n.slice(0, 3))}…`);
      }
    }
  });
});
