import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { SecretDef, VaultSettingsDef } from '../../src/definitions/model.js';
import { SecretResolver, type SecretOutcome } from '../../src/secrets/resolver.js';
import { VaultSession } from '../../src/secrets/vault.js';
import { FakeVault, type FakeVaultOptions } from '../support/fake-vault.js';

const pos = { file: 'pipelines/secrets.yaml', line: 1, col: 1 };
const JWT = 'eyJhbGciOiJSUzI1NiJ9.jwt-value-for-openmetadata.sig';
const WEBHOOK = 'https://hooks.slack.com/services/T1/B1/webhookvalue';
const SA_TOKEN = 'k8s-service-account-jwt-abcdef';
const ROOT = 'hvs.rootTokenValue123';

const secrets: SecretDef[] = [
  { name: 'openmetadata_jwt', env: 'OPENMETADATA_JWT_TOKEN', vault: { mount: 'secret-data', path: 'dagster/openmetadata', field: 'jwt_token', kv: 1 }, pos },
  { name: 'slack_webhook', env: 'SLACK_WEBHOOK_URL', vault: { mount: 'secret-data', path: 'dagster/slack', field: 'webhook_url', kv: 1 }, pos },
  { name: 'v2_secret', vault: { mount: 'kv', path: 'team/app', field: 'password', kv: 2 }, pos },
  { name: 'missing_field', vault: { mount: 'secret-data', path: 'dagster/openmetadata', field: 'nope', kv: 1 }, pos },
  { name: 'missing_path', env: 'MISSING_PATH_TOKEN', vault: { mount: 'secret-data', path: 'dagster/absent', field: 'x', kv: 1 }, pos },
  { name: 'forbidden', vault: { mount: 'secret-data', path: 'other/team', field: 'token', kv: 1 }, pos },
  { name: 'env_only', env: 'ENV_ONLY_SECRET', pos },
];

const kv: FakeVaultOptions = {
  kv1: { 'secret-data': { 'dagster/openmetadata': { jwt_token: JWT, other: 'other-field-value' }, 'dagster/slack': { webhook_url: WEBHOOK, token: 'xoxb-slack-token' }, 'other/team': { token: 'other-team-token' } } },
  kv2: { kv: { 'team/app': { password: 'v2-password-value', user: 'app' } } },
};
const VALUES = [JWT, WEBHOOK, SA_TOKEN, ROOT, 'other-field-value', 'xoxb-slack-token', 'other-team-token', 'v2-password-value', 'approle-secret-id'];

let home: string;
let saTokenFile: string;
const open: FakeVault[] = [];

beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-vault-'));
  saTokenFile = path.join(home, 'sa-token');
  fs.writeFileSync(saTokenFile, SA_TOKEN + '\n');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((v) => v.close()));
});

async function vault(opts: FakeVaultOptions = {}): Promise<FakeVault> {
  const v = await FakeVault.start({ ...kv, ...opts });
  open.push(v);
  return v;
}

function resolver(settings: VaultSettingsDef | undefined, processEnv: Record<string, string | undefined> = {}, extra: Partial<ConstructorParameters<typeof SecretResolver>[0]> = {}): SecretResolver {
  return new SecretResolver({ secrets, env: { name: 'production', vault: settings }, processEnv: { HOME: home, ...processEnv }, ...extra });
}

function expectNoValues(o: SecretOutcome | undefined): void {
  expect(o && !o.ok).toBe(true);
  const text = JSON.stringify(o);
  for (const v of VALUES) expect(text).not.toContain(v);
}

describe('token auth', () => {
  it('reads a KV v1 field with VAULT_TOKEN, sending it as X-Vault-Token', async () => {
    const v = await vault({ tokens: { [ROOT]: {} } });
    const r = resolver({ address: v.url, auth: { method: 'token' } }, { VAULT_TOKEN: ROOT });
    const o = await r.resolveOne('openmetadata_jwt');
    expect(o).toEqual({ ok: true, value: JWT, source: 'vault' });
    const read = v.calls('secret-data/dagster/openmetadata');
    expect(read).toHaveLength(1);
    expect(read[0]!.token).toBe(ROOT);
  });

  it('falls back to ~/.vault-token', async () => {
    const v = await vault({ tokens: { 'hvs.fromFile': {} } });
    const h = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-home-'));
    fs.writeFileSync(path.join(h, '.vault-token'), 'hvs.fromFile\n');
    const r = new SecretResolver({ secrets, env: { name: 'dev', vault: { address: v.url } }, processEnv: { HOME: h } });
    expect(await r.resolveOne('openmetadata_jwt')).toMatchObject({ ok: true, value: JWT });
    expect(v.calls('secret-data/dagster/openmetadata')[0]!.token).toBe('hvs.fromFile');
  });

  it('says how to get a token when there is none', async () => {
    const v = await vault();
    const o = await resolver({ address: v.url, auth: { method: 'token' } }).resolveOne('openmetadata_jwt');
    expectNoValues(o);
    expect(!o.ok && o.message).toMatch(/secret `openmetadata_jwt`: Vault at http:\/\/127\.0\.0\.1:\d+: no Vault token: set VAULT_TOKEN or run `vault login`/);
    expect(!o.ok && o.message).toContain('secret-data/dagster/openmetadata');
    expect(!o.ok && o.message).toContain('OPENMETADATA_JWT_TOKEN');
  });

  it('tells an expired token from a policy denial', async () => {
    const v = await vault({ tokens: { [ROOT]: { ttl: 3600 } } });
    const r = resolver({ address: v.url }, { VAULT_TOKEN: ROOT });
    v.expireAll();
    const o = await r.resolveOne('openmetadata_jwt');
    expectNoValues(o);
    expect(!o.ok && o.message).toContain('the Vault token is invalid or expired (403): run `vault login` or set VAULT_TOKEN');
    expect(v.calls('auth/token/lookup-self')).toHaveLength(1);
  });

  it('sends the namespace', async () => {
    const v = await vault({ tokens: { [ROOT]: {} } });
    await resolver({ address: v.url, namespace: 'data-platform' }, { VAULT_TOKEN: ROOT }).resolveOne('openmetadata_jwt');
    expect(v.calls('secret-data/dagster/openmetadata')[0]!.namespace).toBe('data-platform');
  });
});

describe('kubernetes auth', () => {
  const k8s = { 'k8s-data': { dagster: { jwt: SA_TOKEN, allow: ['secret-data/dagster/'] } } };

  it('logs in with the service-account token; DAGSTER_VAULT_ROLE and DAGSTER_VAULT_MOUNT are the defaults', async () => {
    const v = await vault({ kubernetes: k8s });
    const r = resolver({ address: v.url, auth: { method: 'kubernetes', token_path: saTokenFile } }, { DAGSTER_VAULT_ROLE: 'dagster', DAGSTER_VAULT_MOUNT: 'k8s-data', VAULT_TOKEN: 'hvs.ignored' });
    const out = await r.resolve(['openmetadata_jwt', 'slack_webhook']);
    expect(out.get('openmetadata_jwt')).toMatchObject({ ok: true, value: JWT });
    expect(out.get('slack_webhook')).toMatchObject({ ok: true, value: WEBHOOK });
    const logins = v.calls('auth/k8s-data/login');
    expect(logins).toHaveLength(1); // concurrent reads share one login
    expect(logins[0]!.body).toEqual({ role: 'dagster', jwt: SA_TOKEN });
    expect(logins[0]!.token).toBeUndefined();
    const issued = v.calls('secret-data/dagster/openmetadata')[0]!.token;
    expect(issued).toMatch(/^hvs\./);
    expect(issued).not.toBe('hvs.ignored');
  });

  it('takes role and mount from the settings', async () => {
    const v = await vault({ kubernetes: { k8s: { runner: { jwt: SA_TOKEN } } } });
    const r = resolver({ address: v.url, auth: { method: 'kubernetes', role: 'runner', mount: 'k8s', token_path: saTokenFile } });
    expect(await r.resolveOne('openmetadata_jwt')).toMatchObject({ ok: true });
    expect(v.calls('auth/k8s/login')).toHaveLength(1);
  });

  it('reports a rejected login without the JWT', async () => {
    const v = await vault({ kubernetes: { 'k8s-data': { dagster: { jwt: 'a-different-jwt' } } } });
    const r = resolver({ address: v.url, auth: { method: 'kubernetes', role: 'dagster', mount: 'k8s-data', token_path: saTokenFile } });
    const o = await r.resolveOne('openmetadata_jwt');
    expectNoValues(o);
    expect(!o.ok && o.message).toContain('kubernetes login (role dagster, mount k8s-data) failed: permission denied (403)');
  });

  it('reports an unknown role and a missing token file', async () => {
    const v = await vault({ kubernetes: k8s });
    const bad = await resolver({ address: v.url, auth: { method: 'kubernetes', role: 'nobody', mount: 'k8s-data', token_path: saTokenFile } }).resolveOne('openmetadata_jwt');
    expect(!bad.ok && bad.message).toContain('failed: Vault answered 400: invalid role name "nobody"');
    const nofile = await resolver({ address: v.url, auth: { method: 'kubernetes', role: 'dagster', mount: 'k8s-data', token_path: path.join(home, 'absent') } }).resolveOne('openmetadata_jwt');
    expect(!nofile.ok && nofile.message).toContain('cannot read the service-account token');
    expect(!nofile.ok && nofile.message).toContain('ENOENT');
  });

  it('logs in again once when the token expired, and keeps working', async () => {
    const v = await vault({ kubernetes: k8s });
    const settings = { address: v.url, auth: { method: 'kubernetes' as const, role: 'dagster', mount: 'k8s-data', token_path: saTokenFile } };
    const session = new VaultSession({ settings, processEnv: {} });
    // Two runs sharing one session (as serve does).
    const first = new SecretResolver({ secrets, env: { name: 'p', vault: settings }, vault: session });
    expect(await first.resolveOne('openmetadata_jwt')).toMatchObject({ ok: true });
    v.expireAll();
    const second = new SecretResolver({ secrets, env: { name: 'p', vault: settings }, vault: session });
    expect(await second.resolveOne('openmetadata_jwt')).toMatchObject({ ok: true, value: JWT });
    expect(v.calls('auth/k8s-data/login')).toHaveLength(2);
    const reads = v.calls('secret-data/dagster/openmetadata');
    expect(reads).toHaveLength(3); // ok, 403 with the expired token, ok after the new login
  });

  it('renews the token before its lease runs out', async () => {
    const v = await vault({ kubernetes: { 'k8s-data': { dagster: { jwt: SA_TOKEN, ttl: 100 } } } });
    let now = Date.now();
    const settings = { address: v.url, auth: { method: 'kubernetes' as const, role: 'dagster', mount: 'k8s-data', token_path: saTokenFile } };
    const session = new VaultSession({ settings, processEnv: {}, now: () => now });
    const mk = () => new SecretResolver({ secrets, env: { name: 'p', vault: settings }, vault: session });
    expect(await mk().resolveOne('openmetadata_jwt')).toMatchObject({ ok: true });
    now += 80_000; // past three quarters of the 100 s lease
    expect(await mk().resolveOne('openmetadata_jwt')).toMatchObject({ ok: true });
    expect(v.calls('auth/token/renew-self')).toHaveLength(1);
    expect(v.calls('auth/k8s-data/login')).toHaveLength(1);
  });

  it('a genuine policy denial stays a 403 naming the path', async () => {
    const v = await vault({ kubernetes: k8s });
    const r = resolver({ address: v.url, auth: { method: 'kubernetes', role: 'dagster', mount: 'k8s-data', token_path: saTokenFile } });
    const o = await r.resolveOne('forbidden');
    expectNoValues(o);
    expect(!o.ok && o.message).toMatch(/secret `forbidden`: Vault at http:\/\/127\.0\.0\.1:\d+: permission denied \(403\) reading secret-data\/other\/team with kubernetes login \(role dagster, mount k8s-data\)/);
    expect(v.calls('auth/k8s-data/login')).toHaveLength(2); // one fresh login to rule out an expired token
  });
});

describe('approle auth', () => {
  const approle = { approle: { 'role-123': { secretId: 'approle-secret-id' } } };

  it('logs in with role_id and the secret id from VAULT_SECRET_ID', async () => {
    const v = await vault({ approle });
    const r = resolver({ address: v.url, auth: { method: 'approle', role_id: 'role-123' } }, { VAULT_SECRET_ID: 'approle-secret-id' });
    expect(await r.resolveOne('openmetadata_jwt')).toMatchObject({ ok: true, value: JWT });
    expect(v.calls('auth/approle/login')[0]!.body).toEqual({ role_id: 'role-123', secret_id: 'approle-secret-id' });
  });

  it('reads the secret id from the variable named by secret_id_env, on a custom mount', async () => {
    const v = await vault({ approle: { 'ar-ci': approle.approle } });
    const r = resolver({ address: v.url, auth: { method: 'approle', role_id: 'role-123', mount: 'ar-ci', secret_id_env: 'CI_VAULT_SECRET' } }, { CI_VAULT_SECRET: 'approle-secret-id' });
    expect(await r.resolveOne('openmetadata_jwt')).toMatchObject({ ok: true });
  });

  it('reports a missing or wrong secret id without it', async () => {
    const v = await vault({ approle });
    const missing = await resolver({ address: v.url, auth: { method: 'approle', role_id: 'role-123' } }).resolveOne('openmetadata_jwt');
    expect(!missing.ok && missing.message).toContain('environment variable VAULT_SECRET_ID, which is not set');
    const wrong = await resolver({ address: v.url, auth: { method: 'approle', role_id: 'role-123' } }, { VAULT_SECRET_ID: 'wrong-secret-id' }).resolveOne('openmetadata_jwt');
    expect(!wrong.ok && wrong.message).toContain('approle login (mount approle) failed: Vault answered 400: invalid secret id');
    expect(JSON.stringify(wrong)).not.toContain('wrong-secret-id');
  });
});

describe('KV and failures', () => {
  const token = { tokens: { [ROOT]: {} } };
  const env = { VAULT_TOKEN: ROOT };

  it('reads KV v2 under data/ and data.data', async () => {
    const v = await vault(token);
    expect(await resolver({ address: v.url }, env).resolveOne('v2_secret')).toEqual({ ok: true, value: 'v2-password-value', source: 'vault' });
    expect(v.calls('kv/data/team/app')).toHaveLength(1);
  });

  it('a missing field names the fields, not their values', async () => {
    const v = await vault(token);
    const o = await resolver({ address: v.url }, env).resolveOne('missing_field');
    expectNoValues(o);
    expect(!o.ok && o.message).toContain('path secret-data/dagster/openmetadata has no field `nope` (fields: jwt_token, other)');
  });

  it('a missing path is a 404 that names the path and the overriding variable', async () => {
    const v = await vault(token);
    const o = await resolver({ address: v.url }, env).resolveOne('missing_path');
    expect(!o.ok && o.message).toMatch(/^secret `missing_path`: Vault at http:\/\/127\.0\.0\.1:\d+: path secret-data\/dagster\/absent not found \(404/);
    expect(!o.ok && o.message).toContain('(or set MISSING_PATH_TOKEN to override)');
  });

  it('reading a KV v2 mount as v1 hints at `kv: 2`', async () => {
    const v = await vault(token);
    const wrong: SecretDef = { name: 'wrong_kv', vault: { mount: 'kv', path: 'team/app', field: 'password', kv: 1 }, pos };
    const r = new SecretResolver({ secrets: [wrong], env: { name: 'p', vault: { address: v.url } }, processEnv: env });
    const o = await r.resolveOne('wrong_kv');
    expect(!o.ok && o.message).toContain('path kv/team/app not found (404; the mount is KV version 2: set `kv: 2`)');
  });

  it('a sealed Vault says so', async () => {
    const v = await vault({ ...token, sealed: true });
    const o = await resolver({ address: v.url }, env).resolveOne('openmetadata_jwt');
    expectNoValues(o);
    expect(!o.ok && o.message).toMatch(/Vault at http:\/\/127\.0\.0\.1:\d+: Vault is sealed \(503\) reading secret-data\/dagster\/openmetadata/);
  });

  it('an unreachable Vault says so', async () => {
    const port = await freePort();
    const o = await resolver({ address: `http://127.0.0.1:${port}` }, env).resolveOne('openmetadata_jwt');
    expectNoValues(o);
    expect(!o.ok && o.message).toContain(`secret \`openmetadata_jwt\`: Vault at http://127.0.0.1:${port}: Vault is unreachable (ECONNREFUSED)`);
  });

  it('a Vault that does not answer times out', async () => {
    const v = await vault({ ...token, hang: ['secret-data/dagster/openmetadata'] });
    const o = await resolver({ address: v.url, timeout: '300ms' }, env).resolveOne('openmetadata_jwt');
    expect(!o.ok && o.message).toContain('Vault did not answer within 0.3s');
  });

  it('no variable and no Vault for this environment: names both', async () => {
    const o = await resolver(undefined).resolveOne('openmetadata_jwt');
    expect(o).toEqual({
      ok: false,
      unconfigured: true,
      message: 'secret `openmetadata_jwt`: environment variable OPENMETADATA_JWT_TOKEN is not set, and environment `production` has no `vault` settings to read secret-data/dagster/openmetadata (field jwt_token) from',
    });
    const envOnly = await resolver(undefined).resolveOne('env_only');
    expect(envOnly).toMatchObject({ ok: false, unconfigured: true, message: 'secret `env_only`: environment variable ENV_ONLY_SECRET is not set, and the secret has no `vault` source' });
  });

  it('an unknown secret suggests the closest name', async () => {
    const o = await resolver(undefined).resolveOne('openmetadata_jw');
    expect(!o.ok && o.message).toContain("secret `openmetadata_jw` is not defined (did you mean 'openmetadata_jwt'?)");
  });
});

describe('sources and caching', () => {
  it('a set environment variable wins; Vault is not asked', async () => {
    const v = await vault({ tokens: { [ROOT]: {} } });
    const r = resolver({ address: v.url }, { VAULT_TOKEN: ROOT, OPENMETADATA_JWT_TOKEN: 'from-the-environment' });
    expect(await r.resolveOne('openmetadata_jwt')).toEqual({ ok: true, value: 'from-the-environment', source: 'env' });
    expect(v.requests).toHaveLength(0);
  });

  it('an empty environment variable falls through to Vault', async () => {
    const v = await vault({ tokens: { [ROOT]: {} } });
    const r = resolver({ address: v.url }, { VAULT_TOKEN: ROOT, OPENMETADATA_JWT_TOKEN: '' });
    expect(await r.resolveOne('openmetadata_jwt')).toMatchObject({ ok: true, value: JWT, source: 'vault' });
  });

  it('resolves each secret once per resolver, failures included', async () => {
    const v = await vault({ tokens: { [ROOT]: {} } });
    const r = resolver({ address: v.url }, { VAULT_TOKEN: ROOT });
    await Promise.all([r.resolve(['openmetadata_jwt', 'openmetadata_jwt']), r.resolveOne('openmetadata_jwt'), r.resolve(['missing_path'])]);
    await r.resolve(['openmetadata_jwt', 'missing_path']);
    expect(v.calls('secret-data/dagster/openmetadata')).toHaveLength(1);
    expect(v.calls('secret-data/dagster/absent')).toHaveLength(1);
    // A new resolver (the next run) reads again.
    await resolver({ address: v.url }, { VAULT_TOKEN: ROOT }).resolveOne('openmetadata_jwt');
    expect(v.calls('secret-data/dagster/openmetadata')).toHaveLength(2);
  });

  it('feeds every resolved value to the masker', async () => {
    const v = await vault({ tokens: { [ROOT]: {} } });
    const r = resolver({ address: v.url }, { VAULT_TOKEN: ROOT, ENV_ONLY_SECRET: 'env-only-value' });
    await r.resolve(['openmetadata_jwt', 'env_only']);
    expect(r.masker.mask(`jwt=${JWT} env=env-only-value`)).toBe('jwt=*** env=***');
    expect(r.value('openmetadata_jwt')).toBe(JWT);
    expect(r.value('slack_webhook')).toBeUndefined();
  });

  it('a health check reports sealed and reachable', async () => {
    const v = await vault();
    const s = new VaultSession({ settings: { address: v.url }, processEnv: {} });
    expect(await s.health()).toMatchObject({ ok: true, sealed: false, version: '1.15.0' });
    v.sealed = true;
    expect(await s.health()).toMatchObject({ ok: true, sealed: true });
  });
});

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
