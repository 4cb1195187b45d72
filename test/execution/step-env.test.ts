import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliEntry, runCli } from './cli-entry.js';
import { tempDir } from './helpers.js';
import { allowed, deniedFor, envPolicy, stepEnvironment } from '../../src/execution/step-env.js';

/** `NAME=value` lines of an `env` dump, as a map (values are one line here). */
function readEnv(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/** What the runner's own environment holds in these tests: credentials, secrets' variables, and ordinary variables. */
const RUNNER_ENV = {
  VAULT_TOKEN: 'hvs.runner-token',
  VAULT_ADDR: 'http://127.0.0.1:1',
  VAULT_SECRET_ID: 'approle-secret-id',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/xyz',
  RUNNER_UI_TOKEN: 'ui-token-123',
  DB_PASSWORD: 'db-pass-named',
  OTHER_SECRET: 'other-secret-unnamed',
  ALERT_HOOK: 'https://alerts.example/hook',
  MY_TOOL_HOME: '/opt/tool',
  AWS_REGION: 'eu-west-1',
  TEAM_NAME: 'data-platform',
  TZ: 'Europe/Paris',
  LC_ALL: 'C.UTF-8',
  http_proxy: 'http://proxy:3128',
  NO_PROXY: 'localhost',
};

beforeAll(async () => {
  await cliEntry();
}, 60_000);

describe('the environment of a step (built CLI)', () => {
  it('is minimal by default, widened only by inherit_env, and never holds credentials or unnamed secrets', async () => {
    const root = tempDir('runner-stepenv-');
    const dir = path.join(root, 'pipelines');
    fs.mkdirSync(dir);
    const dump = (name: string) => ['sh', '-c', `env > ${path.join(root, name)}`];
    fs.writeFileSync(
      path.join(dir, 'p.yaml'),
      [
        'environments:',
        '  default: dev',
        '  dev:',
        '    inherit_env: [TEAM_*]',
        'secrets:',
        '  db_password: {env: DB_PASSWORD}',
        '  other: {env: OTHER_SECRET}',
        '  slack_webhook: {env: SLACK_WEBHOOK_URL}',
        'notifications:',
        '  - name: alerts',
        '    on: [run_failure]',
        '    slack: {webhook: "${env:ALERT_HOOK}"}',
        'assets:',
        '  - key: plain',
        '    handler: command',
        `    config: {run: ${JSON.stringify(dump('plain.env'))}, env: {PW: "\${secret:db_password}", GREETING: hi}}`,
        '  - key: widened',
        '    handler: command',
        `    config: {run: ${JSON.stringify(dump('widened.env'))}}`,
        '    inherit_env: [MY_TOOL_HOME, AWS_*, VAULT_*, OTHER_SECRET, SLACK_WEBHOOK_URL, ALERT_HOOK, RUNNER_UI_TOKEN, DB_PASSWORD]',
        '',
      ].join('\n'),
    );
    const r = await runCli(['materialize', '-p', dir, '--select', '*', '--output', 'plain'], { env: { ...RUNNER_ENV, RUNNER_HOME: path.join(root, 'home') } });
    expect(r.code, r.stderr).toBe(0);

    const plain = readEnv(path.join(root, 'plain.env'));
    // The minimal set, and what the asset declares (its secret through its own variable).
    expect(plain.get('PATH')).toBe(process.env.PATH);
    expect(plain.get('HOME')).toBe(process.env.HOME);
    expect(plain.get('TZ')).toBe('Europe/Paris');
    expect(plain.get('LC_ALL')).toBe('C.UTF-8');
    expect(plain.get('http_proxy')).toBe('http://proxy:3128');
    expect(plain.get('NO_PROXY')).toBe('localhost');
    expect(plain.get('PW')).toBe('db-pass-named');
    expect(plain.get('GREETING')).toBe('hi');
    expect(plain.get('TEAM_NAME')).toBe('data-platform'); // the environment's inherit_env
    expect(plain.get('RUNNER_STEP')).toMatch(/^[0-9a-f-]{36}\/1\/plain$/);
    for (const name of ['VAULT_TOKEN', 'VAULT_ADDR', 'VAULT_SECRET_ID', 'SLACK_WEBHOOK_URL', 'RUNNER_UI_TOKEN', 'DB_PASSWORD', 'OTHER_SECRET', 'ALERT_HOOK', 'MY_TOOL_HOME', 'AWS_REGION']) {
      expect(plain.has(name), name).toBe(false);
    }
    // No value of a credential or an unnamed secret, under any name.
    const plainText = fs.readFileSync(path.join(root, 'plain.env'), 'utf8');
    for (const v of ['hvs.runner-token', 'approle-secret-id', 'hooks.slack.com', 'ui-token-123', 'other-secret-unnamed', 'alerts.example']) expect(plainText).not.toContain(v);

    const widened = readEnv(path.join(root, 'widened.env'));
    expect(widened.get('MY_TOOL_HOME')).toBe('/opt/tool');
    expect(widened.get('AWS_REGION')).toBe('eu-west-1');
    expect(widened.get('TEAM_NAME')).toBe('data-platform');
    // An allow-list cannot let these through: VAULT_*, the runner's credentials, secrets the step does not name.
    for (const name of ['VAULT_TOKEN', 'VAULT_ADDR', 'VAULT_SECRET_ID', 'SLACK_WEBHOOK_URL', 'RUNNER_UI_TOKEN', 'OTHER_SECRET', 'ALERT_HOOK', 'DB_PASSWORD']) {
      expect(widened.has(name), name).toBe(false);
    }
  }, 120_000);

  it('a bad inherit_env entry is reported at its position (exit 2)', async () => {
    const root = tempDir('runner-stepenv-');
    const dir = path.join(root, 'pipelines');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'p.yaml'), ['assets:', '  - key: a', '    handler: command', '    config: {run: ["true"]}', '    inherit_env: ["AWS_*_KEY"]', ''].join('\n'));
    const r = await runCli(['check', '-p', dir], { env: { RUNNER_HOME: path.join(root, 'home') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/p\.yaml:5:\d+: .*inherit_env/);
  });
});

describe('step environment rules', () => {
  it('matches names and trailing-* prefixes only', () => {
    expect(allowed('AWS_REGION', ['AWS_*'])).toBe(true);
    expect(allowed('AWS', ['AWS_*'])).toBe(false);
    expect(allowed('MY_TOOL', ['MY_TOOL_HOME'])).toBe(false);
    expect(allowed('X', ['*'])).toBe(true);
  });

  it('denies a secret variable unless the step names the secret, and credentials always', () => {
    const policy = envPolicy({
      secrets: new Map([['db', { name: 'db', env: 'DB_PW', pos: { file: 'f', line: 1, col: 1 } }]]),
      notifications: new Map([['n', { name: 'n', on: ['run_failure'], slack: { webhook: '${env:HOOK}' }, pos: { file: 'f', line: 1, col: 1 } }]]),
      watchers: new Map(),
      environments: new Map(),
    });
    const env = { DB_PW: 'x', HOOK: 'h', PATH: '/bin', VAULT_NAMESPACE: 'ns' };
    const all = ['*'];
    expect(stepEnvironment({ processEnv: env, inherit: all, denied: deniedFor(policy, new Set()) })).toEqual({ PATH: '/bin' });
    expect(stepEnvironment({ processEnv: env, inherit: all, denied: deniedFor(policy, new Set(['db'])) })).toEqual({ PATH: '/bin', DB_PW: 'x' });
  });
});
