/**
 * Masking of everything a run knows, through the real executor, run store and `command`
 * handler with the hooks `runner materialize` uses:
 *   - secrets no step of the run asked for (an env-sourced secret set in the process
 *     environment, VAULT_TOKEN, a webhook URL written with `${env:..}`) are masked from the
 *     first line on;
 *   - every percent-encoding is masked: Python's `quote(v, safe='')`, lowercase hex,
 *     `encodeURIComponent`, form encoding, of the value and of its base64;
 *   - a Vault value with a NUL byte fails its step with a message that does not quote it;
 *   - a Vault (or a proxy in front of it) whose error text echoes the token is masked
 *     before the message is printed or stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { AssetDef, NotificationDef, SecretDef } from '../../src/definitions/model.js';
import { AssetGraph } from '../../src/graph/asset-graph.js';
import { buildPlan } from '../../src/execution/plan.js';
import { execute } from '../../src/execution/executor.js';
import { FanOut, MemorySink } from '../../src/execution/sinks.js';
import { getHandler } from '../../src/handlers/registry.js';
import { Store } from '../../src/storage/store.js';
import { runHooks } from '../../src/notify/hooks.js';
import { SecretResolver } from '../../src/secrets/resolver.js';
import { knownSecretValues, webhookForms } from '../../src/secrets/known.js';

const pos = { file: 'pipelines/mask.yaml', line: 1, col: 1 };
const ROOT = 'hvs.CAESIroot-token/with+odd(chars)!';
const UNUSED = "un*used (env) s3cret!~'x";
const WEBHOOK_TOKEN = 'WebhookT0kenValue42xyz';
const NUL_VALUE = 'nul-left\u0000nul-right-part';

/** Python's `urllib.parse.quote(v, safe='')`: everything but A-Za-z0-9_.-~ escaped, uppercase hex. */
function pythonQuote(v: string): string {
  return [...Buffer.from(v)].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'))).join('');
}
const lowerHex = (s: string) => s.replace(/%[0-9A-F]{2}/g, (x) => x.toLowerCase());

/** The forms a program may print a value in, which must all be masked. */
function printedForms(v: string): string[] {
  const b64 = Buffer.from(v).toString('base64');
  return [v, pythonQuote(v), lowerHex(pythonQuote(v)), encodeURIComponent(v), encodeURIComponent(v).replace(/%20/g, '+'), b64, pythonQuote(b64), lowerHex(encodeURIComponent(b64))];
}

/**
 * A Vault as a proxy in front of it may answer: KV v1 reads of `secret-data/nul` return a
 * value with a NUL byte; everything else is a 500 whose error text echoes the token sent.
 */
function echoingVault(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const token = String(req.headers['x-vault-token'] ?? '');
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/secret-data/nul') {
      res.end(JSON.stringify({ request_id: 'r1', lease_id: '', renewable: false, lease_duration: 2764800, data: { value: NUL_VALUE }, wrap_info: null, warnings: null, auth: null }));
      return;
    }
    res.statusCode = 500;
    res.end(JSON.stringify({ errors: [`1 error occurred:\n\t* internal error for token ${token} (${lowerHex(encodeURIComponent(token))})\n\n`] }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) }),
    ),
  );
}

let dir: string;
let vault: { url: string; close(): Promise<void> };
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-mask-'));
  vault = await echoingVault();
});
afterAll(async () => {
  await vault?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function asset(key: string, config: Record<string, unknown>): AssetDef {
  return { key, group: 'g', tags: {}, kinds: [], owners: [], deps: [], handler: 'command', config, pos, configPath: [] };
}

function filesUnder(root: string): string[] {
  return fs.readdirSync(root, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(root, e.name)) : [path.join(root, e.name)]));
}

const secrets: SecretDef[] = [
  { name: 'unused_env', env: 'UNUSED_SECRET', pos },
  { name: 'nul_secret', vault: { mount: 'secret-data', path: 'nul', field: 'value', kv: 1 }, pos },
  { name: 'denied', vault: { mount: 'secret-data', path: 'denied', field: 'x', kv: 1 }, pos },
];
const notifications: NotificationDef[] = [{ name: 'hook', on: ['run_recovered'], slack: { webhook: '${env:HOOK_URL}' }, pos }];
const webhook = `https://hooks.slack.example/services/T0/B0/${WEBHOOK_TOKEN}`;

describe('the masker of a run', () => {
  it('knows, before anything is resolved, env-sourced secrets, VAULT_TOKEN and webhook URLs', () => {
    const known = knownSecretValues({
      defs: { secrets: new Map(secrets.map((s) => [s.name, s])), notifications: new Map(notifications.map((n) => [n.name, n])) },
      env: { vars: {}, vault: { address: vault.url } },
      processEnv: { UNUSED_SECRET: UNUSED, VAULT_TOKEN: ROOT, HOOK_URL: webhook, UNRELATED: 'not-a-secret' },
    });
    expect(known).toEqual(expect.arrayContaining([UNUSED, ROOT, webhook, WEBHOOK_TOKEN]));
    expect(known).not.toContain('not-a-secret');
    expect(webhookForms('http://x/y')).toEqual(['http://x/y', 'x/y']); // short paths are not masked on their own
  });

  it('a Vault error text that echoes the token is masked; a NUL in a value fails without quoting it', async () => {
    const r = new SecretResolver({ secrets, env: { name: 'production', vault: { address: vault.url } }, processEnv: { VAULT_TOKEN: ROOT, HOME: dir } });
    const out = await r.resolve(['denied', 'nul_secret']);
    const denied = out.get('denied')!;
    expect(denied.ok).toBe(false);
    const text = JSON.stringify([...out.values()]);
    for (const f of printedForms(ROOT)) expect(text).not.toContain(f);
    expect(!denied.ok && denied.message).toMatch(/^secret `denied`: Vault at http:\/\/127\.0\.0\.1:\d+: Vault answered 500: internal error for token \*\*\* \(\*\*\*\) reading secret-data\/denied$/);
    const nul = out.get('nul_secret')!;
    expect(!nul.ok && nul.message).toMatch(/^secret `nul_secret`: the value of field value at Vault secret-data\/nul contains a NUL byte \(at character 9\)/);
    expect(text).not.toContain('nul-left');
    expect(text).not.toContain('nul-right-part');
    expect(r.masker.mask('nul-left and nul-right-part')).toBe('*** and ***');
  });

  it('masks every form of every known secret in the log, events, store and messages of a run', async () => {
    const valuesFile = path.join(dir, 'values.json');
    fs.writeFileSync(valuesFile, JSON.stringify([UNUSED, ROOT, webhook]));
    // A program that knows secrets no step asked for (read from a file here) and prints them in many encodings.
    const script = [
      `const vs = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));`,
      `const q = (v) => [...Buffer.from(v)].map((b) => /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : "%" + b.toString(16).toUpperCase().padStart(2, "0")).join("");`,
      `const lo = (s) => s.replace(/%[0-9A-F]{2}/g, (x) => x.toLowerCase());`,
      `for (const v of vs) { const b = Buffer.from(v).toString("base64");`,
      `  console.log("raw " + v); console.log("py https://x/?t=" + q(v) + "&n=1"); console.log("lower " + lo(q(v)));`,
      `  console.log("uric " + encodeURIComponent(v)); console.log("b64q " + q(b)); console.error("b64lower " + lo(encodeURIComponent(b))); }`,
      `console.error("fatal: " + q(vs[1])); process.exit(5);`,
    ].join('\n');
    const assets = [asset('app/prints', { run: [process.execPath, '-e', script, valuesFile] }), asset('app/nul', { run: [process.execPath, '-e', ''], env: { V: '${secret:nul_secret}' } }), asset('app/denied', { run: [process.execPath, '-e', ''], env: { V: '${secret:denied}' } })];
    const env = { name: 'production', vars: {}, vault: { address: vault.url, auth: { method: 'token' as const } }, openmetadata: {} };
    const processEnv = { PATH: process.env.PATH, HOME: dir, VAULT_TOKEN: ROOT, UNUSED_SECRET: UNUSED, HOOK_URL: webhook };
    const home = path.join(dir, '.runner');
    const store = Store.open(home);
    const printed: string[] = [];
    const hooks = runHooks({ defs: { secrets: new Map(secrets.map((s) => [s.name, s])), notifications: new Map(notifications.map((n) => [n.name, n])) }, env, store, processEnv, out: { write: (s) => printed.push(s) } });
    const map = new Map(assets.map((a) => [a.key, a]));
    const plan = buildPlan(map.keys(), map, new AssetGraph(new Map(assets.map((a) => [a.key, a.deps]))));
    const runId = '0a1b2c3d-9999-2222-3333-444455556666';
    store.createRun({ id: runId, trigger: { type: 'manual' }, env: env.name, selection: 'app/*', keys: plan.steps.map((s) => s.key), pipelinesDir: dir });
    const memory = new MemorySink();
    const sink = new FanOut([store, memory, ...hooks.sinks]);
    const outcome = await execute({ runId, plan, env, projectDir: dir, handler: getHandler, sink, concurrency: 2, slots: store, processes: store, mask: hooks.mask, resolveSecrets: hooks.resolveSecrets, processEnv });
    await sink.close();
    store.flush();
    const record = store.getRun(runId)!;
    store.close();

    expect(Object.fromEntries(outcome.steps.map((s) => [s.key, s.status]))).toEqual({ 'app/prints': 'failure', 'app/nul': 'failure', 'app/denied': 'failure' });
    expect(outcome.steps.find((s) => s.key === 'app/nul')!.error).toContain('contains a NUL byte');
    expect(outcome.steps.find((s) => s.key === 'app/denied')!.error).toContain('internal error for token ***');
    const log = fs.readFileSync(path.join(home, 'logs', runId, 'app__prints.log'), 'utf8');
    expect(log).toContain('py https://x/?t=***&n=1');
    expect(log.match(/\*\*\*/g)!.length).toBeGreaterThanOrEqual(18);

    const haystacks: Array<[string, string]> = [
      ['events', JSON.stringify(memory.events)],
      ['outcome', JSON.stringify(outcome)],
      ['record', JSON.stringify(record)],
      ['printed', printed.join('')],
    ];
    for (const f of filesUnder(home)) haystacks.push([f, fs.readFileSync(f).toString('utf8')]);
    const needles = [...[UNUSED, ROOT, webhook].flatMap(printedForms), WEBHOOK_TOKEN, 'nul-left', 'nul-right-part'];
    for (const [where, text] of haystacks) {
      for (const n of needles) if (text.includes(n)) throw new Error(`${where} contains a form of a secret: ${JSON.stringify(n.slice(0, 6))}…`);
    }
  });
});
