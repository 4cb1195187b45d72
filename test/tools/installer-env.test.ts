import { describe, expect, it } from 'vitest';
import { childEnvironment, envPolicy } from '../../src/execution/step-env.js';
import type { Definitions } from '../../src/definitions/model.js';

const RUNNER_ENV = {
  PATH: '/usr/bin',
  PIP_INDEX_URL: 'https://pypi.example/simple',
  HOME: '/home/x',
  FAKE_PY_LOG: '/tmp/calls',
  VAULT_TOKEN: 's.abc',
  VAULT_ADDR: 'https://vault',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/x',
  RUNNER_UI_TOKEN: 'ui',
  RUNNER_STEP: 'run/1/key',
  OPENMETADATA_JWT_TOKEN: 'eyJ.jwt',
  TRINO_PASSWORD: 'pw',
  TEAM_HOOK: 'https://hooks.slack.com/services/y',
  UNSET: undefined,
};

describe('childEnvironment (installers, preflight, docker kill)', () => {
  it('without the definitions: drops the runner credentials, VAULT_* and step marks', () => {
    expect(childEnvironment(RUNNER_ENV)).toEqual({
      PATH: '/usr/bin',
      PIP_INDEX_URL: 'https://pypi.example/simple',
      HOME: '/home/x',
      FAKE_PY_LOG: '/tmp/calls',
      OPENMETADATA_JWT_TOKEN: 'eyJ.jwt',
      TRINO_PASSWORD: 'pw',
      TEAM_HOOK: 'https://hooks.slack.com/services/y',
    });
  });

  it('with the definitions: also every declared secret\'s variable and every ${env:..} credential', () => {
    const defs = {
      secrets: new Map([
        ['openmetadata_jwt', { name: 'openmetadata_jwt', env: 'OPENMETADATA_JWT_TOKEN' }],
        ['trino_password', { name: 'trino_password', env: 'TRINO_PASSWORD' }],
      ]),
      notifications: new Map([['team', { slack: { webhook: '${env:TEAM_HOOK}' } }]]),
      watchers: new Map(),
      environments: new Map(),
    } as unknown as Pick<Definitions, 'secrets' | 'notifications' | 'watchers' | 'environments'>;
    expect(childEnvironment(RUNNER_ENV, envPolicy(defs))).toEqual({ PATH: '/usr/bin', PIP_INDEX_URL: 'https://pypi.example/simple', HOME: '/home/x', FAKE_PY_LOG: '/tmp/calls' });
  });
});
