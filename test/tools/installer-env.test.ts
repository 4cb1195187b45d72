import { describe, expect, it } from 'vitest';
import { installerEnvironment } from '../../src/tools/exec.js';

describe('installerEnvironment', () => {
  it('keeps what pip needs and drops the runner credentials, VAULT_* and step marks', () => {
    const env = installerEnvironment({
      PATH: '/usr/bin',
      PIP_INDEX_URL: 'https://pypi.example/simple',
      HOME: '/home/x',
      VAULT_TOKEN: 's.abc',
      VAULT_ADDR: 'https://vault',
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/x',
      RUNNER_UI_TOKEN: 'ui',
      RUNNER_STEP: 'run/1/key',
      UNSET: undefined,
    });
    expect(env).toEqual({ PATH: '/usr/bin', PIP_INDEX_URL: 'https://pypi.example/simple', HOME: '/home/x' });
  });
});
