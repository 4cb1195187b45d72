import { afterEach, describe, expect, it } from 'vitest';
import type { AssetDef, SecretDef } from '../../src/definitions/model.js';
import { checkSecrets, prepareStepSecrets, SecretResolver, stepSecretNames } from '../../src/secrets/index.js';
import { FakeVault } from '../support/fake-vault.js';

const pos = { file: 'pipelines/x.yaml', line: 3, col: 5 };
const JWT = 'jwt-value-0123456789';
const ROOT = 'hvs.checkRootToken';

const secretList: SecretDef[] = [
  { name: 'openmetadata_jwt', env: 'OPENMETADATA_JWT_TOKEN', vault: { mount: 'secret-data', path: 'dagster/openmetadata', field: 'jwt_token', kv: 1 }, pos },
  { name: 'slack_webhook', env: 'SLACK_WEBHOOK_URL', vault: { mount: 'secret-data', path: 'dagster/slack', field: 'webhook_url', kv: 1 }, pos },
  { name: 'dbt_token', env: 'DBT_TOKEN', pos },
];
const secrets = new Map(secretList.map((s) => [s.name, s]));

function asset(key: string, config: Record<string, unknown>): AssetDef {
  return { key, group: 'g', tags: {}, kinds: [], owners: [], deps: [], handler: 'command', config, pos, configPath: [] };
}

const open: FakeVault[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((v) => v.close()));
});

async function vault(sealed = false): Promise<FakeVault> {
  const v = await FakeVault.start({ sealed, tokens: { [ROOT]: {} }, kv1: { 'secret-data': { 'dagster/openmetadata': { jwt_token: JWT } } } });
  open.push(v);
  return v;
}

describe('prepareStepSecrets', () => {
  it('substitutes secrets, variables and environment references in the config', async () => {
    const v = await vault();
    const r = new SecretResolver({ secrets, env: { name: 'p', vault: { address: v.url } }, processEnv: { VAULT_TOKEN: ROOT } });
    const a = asset('om/trino', { auth: { jwt: '${secret:openmetadata_jwt}' }, url: '${var:openmetadata_url}', user: '${env:TRINO_USER:-openmetadata}', list: ['Bearer ${secret:openmetadata_jwt}'] });
    const p = await prepareStepSecrets<Record<string, unknown>>(r, a, { vars: { openmetadata_url: 'http://om:8585/api' } }, { processEnv: {} });
    expect(p).toEqual({ ok: true, secrets: ['openmetadata_jwt'], config: { auth: { jwt: JWT }, url: 'http://om:8585/api', user: 'openmetadata', list: [`Bearer ${JWT}`] } });
    expect(r.masker.mask(JSON.stringify(p))).not.toContain(JWT);
  });

  it('fails a step whose secret cannot be resolved, naming the secret, before anything runs', async () => {
    const r = new SecretResolver({ secrets, env: { name: 'dev' }, processEnv: {} });
    const p = await prepareStepSecrets(r, asset('dbt/run', { token: '${secret:dbt_token}', jwt: '${secret:openmetadata_jwt}' }), { vars: {} }, { processEnv: {} });
    expect(p.ok).toBe(false);
    expect(!p.ok && p.message.split('\n')).toEqual([
      'secret `dbt_token`: environment variable DBT_TOKEN is not set, and the secret has no `vault` source',
      'secret `openmetadata_jwt`: environment variable OPENMETADATA_JWT_TOKEN is not set, and environment `dev` has no `vault` settings to read secret-data/dagster/openmetadata (field jwt_token) from',
    ]);
  });

  it('a step that needs no secret does not touch Vault', async () => {
    const v = await vault(true);
    const r = new SecretResolver({ secrets, env: { name: 'p', vault: { address: v.url } }, processEnv: { VAULT_TOKEN: ROOT } });
    const p = await prepareStepSecrets(r, asset('plain', { cmd: ['echo', 'hi'] }), { vars: {} });
    expect(p).toEqual({ ok: true, secrets: [], config: { cmd: ['echo', 'hi'] } });
    expect(v.requests).toHaveLength(0);
  });

  it('also resolves secrets a handler declares (e.g. the environment JWT)', async () => {
    expect(stepSecretNames(asset('a', { x: '${secret:b_secret}' }), [{ jwt: '${secret:openmetadata_jwt}' }])).toEqual(['b_secret', 'openmetadata_jwt']);
    const r = new SecretResolver({ secrets, env: { name: 'p' }, processEnv: { OPENMETADATA_JWT_TOKEN: 'from-env-jwt' } });
    const p = await prepareStepSecrets(r, asset('a', {}), { vars: {} }, { extra: [{ jwt: '${secret:openmetadata_jwt}' }] });
    expect(p).toMatchObject({ ok: true, secrets: ['openmetadata_jwt'] });
    expect(r.value('openmetadata_jwt')).toBe('from-env-jwt');
  });
});

describe('checkSecrets', () => {
  it('reports each secret as resolvable or not, with its source, never its value', async () => {
    const v = await vault();
    const assets = new Map([['om/trino', asset('om/trino', { jwt: '${secret:openmetadata_jwt}' })]]);
    const rows = await checkSecrets({ secrets, assets, notifications: new Map() }, { name: 'production', vault: { address: v.url }, openmetadata: {} }, { processEnv: { VAULT_TOKEN: ROOT, DBT_TOKEN: 'dbt-token-value' } });
    expect(rows.map((r) => [r.name, r.ok])).toEqual([
      [`Vault at ${v.url}`, true],
      ['secret dbt_token', true],
      ['secret openmetadata_jwt', true],
      ['secret slack_webhook', false],
    ]);
    expect(rows[0]!.detail).toBe('reachable, version 1.15.0');
    expect(rows[1]!.detail).toBe('resolvable from environment variable DBT_TOKEN');
    expect(rows[2]).toMatchObject({ detail: 'resolvable from Vault secret-data/dagster/openmetadata (field jwt_token)', keys: ['om/trino'] });
    expect(rows[3]!.detail).toContain('path secret-data/dagster/slack not found (404');
    const text = JSON.stringify(rows);
    expect(text).not.toContain(JWT);
    expect(text).not.toContain('dbt-token-value');
    expect(text).not.toContain(ROOT);
  });

  it('a sealed Vault fails its row and every Vault secret', async () => {
    const v = await vault(true);
    const rows = await checkSecrets({ secrets, assets: new Map(), notifications: new Map() }, { name: 'production', vault: { address: v.url }, openmetadata: {} }, { processEnv: { VAULT_TOKEN: ROOT } });
    expect(rows[0]).toEqual({ name: `Vault at ${v.url}`, ok: false, detail: 'sealed' });
    expect(rows.find((r) => r.name === 'secret openmetadata_jwt')).toMatchObject({ ok: false, detail: expect.stringContaining('Vault is sealed (503)') });
  });
});
