/**
 * Choosing and resolving the environment (`--env`, else RUNNER_ENV, else DAGSTER_ENV,
 * else environments.default), `${env:NAME:-default}` in variables, and YAML anchors and
 * merge keys in asset definitions.
 */
import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { loadDefinitionsSync } from '../../src/definitions/load.js';
import { chooseEnvironment, resolveEnvironment } from '../../src/definitions/environment.js';
import { substitute } from '../../src/definitions/interpolate.js';
import { formatDiagnostic } from '../../src/diagnostics/diagnostic.js';
import type { Definitions } from '../../src/definitions/model.js';
import { PROJECT_ROOT } from '../support/bundle.js';

const GOOD = path.join(PROJECT_ROOT, 'test/fixtures/good');

function load(name: string): Definitions {
  const r = loadDefinitionsSync(path.join(GOOD, name), { cacheDir: false });
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.value.defs;
}

function messages(r: { ok: boolean; diagnostics?: Array<{ message: string }> }): string[] {
  return r.ok ? [] : (r.diagnostics ?? []).map((d) => d.message);
}

describe('choosing the environment', () => {
  const defs = load('environments');

  test.each([
    ['--env wins over both variables', 'qa', { RUNNER_ENV: 'production', DAGSTER_ENV: 'production' }, 'qa', '--env'],
    ['RUNNER_ENV wins over DAGSTER_ENV', undefined, { RUNNER_ENV: 'production', DAGSTER_ENV: 'qa' }, 'production', 'RUNNER_ENV'],
    ['DAGSTER_ENV when RUNNER_ENV is unset', undefined, { DAGSTER_ENV: 'qa' }, 'qa', 'DAGSTER_ENV'],
    ['an empty RUNNER_ENV counts as unset', undefined, { RUNNER_ENV: '', DAGSTER_ENV: 'qa' }, 'qa', 'DAGSTER_ENV'],
    ['environments.default otherwise', undefined, {}, 'dev', 'environments.default'],
  ] as const)('%s', (_title, flag, env, name, source) => {
    expect(chooseEnvironment(defs, flag, env)).toEqual({ name, source });
    const r = resolveEnvironment(defs, flag, { ...env, RUNNER_TEST_REGION: 'eu-west-1' });
    expect(r.ok && r.value.name).toBe(name);
  });

  test('an unknown --env names the defined environments and the closest one', () => {
    expect(messages(resolveEnvironment(defs, 'prod', {}))).toEqual([
      "environment `prod` (from --env) does not exist (did you mean 'production'?); defined: dev, qa, production",
    ]);
  });

  test('an unknown RUNNER_ENV or DAGSTER_ENV says where the name came from', () => {
    expect(messages(resolveEnvironment(defs, undefined, { RUNNER_ENV: 'staging' }))).toEqual([
      'environment `staging` (from RUNNER_ENV) does not exist; defined: dev, qa, production',
    ]);
    expect(messages(resolveEnvironment(defs, undefined, { DAGSTER_ENV: 'QA' }))).toEqual([
      "environment `QA` (from DAGSTER_ENV) does not exist (did you mean 'qa'?); defined: dev, qa, production",
    ]);
  });
});

describe('${env:NAME} and ${env:NAME:-default} in variables', () => {
  const defs = load('environments');
  const vars = (name: string, env: Record<string, string>) => {
    const r = resolveEnvironment(defs, name, env);
    if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
    return r.value.vars;
  };

  test('the default applies when the variable is unset or empty', () => {
    expect(vars('dev', {})).toEqual({ api_url: 'http://localhost:8080', region: 'local' });
    expect(vars('dev', { RUNNER_TEST_API_URL: '' }).api_url).toBe('http://localhost:8080');
    expect(vars('qa', {}).region).toBe('us-east-1');
  });

  test('a set variable wins over the default', () => {
    expect(vars('dev', { RUNNER_TEST_API_URL: 'http://10.0.0.5:9000' }).api_url).toBe('http://10.0.0.5:9000');
    expect(vars('qa', { RUNNER_TEST_REGION: 'eu-west-1' }).region).toBe('eu-west-1');
  });

  test('an unset variable without a default is an error naming the environment and the variable', () => {
    const r = resolveEnvironment(defs, 'production', {});
    expect(r.ok).toBe(false);
    expect(!r.ok && r.diagnostics.map(formatDiagnostic)).toEqual([
      `${path.relative(process.cwd(), path.join(GOOD, 'environments/pipeline.yaml'))}:12:3: environment \`production\`: vars.region: environment variable RUNNER_TEST_REGION is not set (write \${env:RUNNER_TEST_REGION:-default} for a default)`,
    ]);
    expect(vars('production', { RUNNER_TEST_REGION: 'us-west-2' })).toEqual({ api_url: 'https://api.example.org', region: 'us-west-2' });
  });

  test('substitution: defaults, escapes, and secrets kept or masked', () => {
    const scope = { env: { HOST: 'db.local' }, vars: { port: '5432' }, secrets: 'mask' as const };
    expect(substitute('${env:HOST}:${var:port}', scope)).toEqual({ value: 'db.local:5432', errors: [] });
    expect(substitute('${env:USER_NAME:-anonymous}', scope)).toEqual({ value: 'anonymous', errors: [] });
    expect(substitute('${env:EMPTY_DEFAULT:-}x', scope)).toEqual({ value: 'x', errors: [] });
    expect(substitute('$${env:HOST} stays literal', scope)).toEqual({ value: '${env:HOST} stays literal', errors: [] });
    expect(substitute('token=${secret:api_token}', scope).value).toBe('token=***');
    expect(substitute('token=${secret:api_token}', { ...scope, secrets: 'keep' }).value).toBe('token=${secret:api_token}');
  });
});

describe('YAML anchors and merge keys', () => {
  const defs = load('anchors');

  test('merged blocks fill in asset fields, and keys written beside a merge win', () => {
    const orders = defs.assets.get('warehouse/orders')!;
    const customers = defs.assets.get('warehouse/customers')!;
    const report = defs.assets.get('warehouse/report')!;
    for (const a of [orders, customers]) {
      expect(a.group).toBe('warehouse');
      expect(a.handler).toBe('command');
      expect(a.owners).toEqual(['data-platform@example.org']);
      expect(a.tags).toEqual({ tier: 'gold', source: 'erp' });
      expect(a.retry).toMatchObject({ attempts: 3, backoff: 'exponential', delayMs: 30_000 });
    }
    expect(customers.config).toEqual({ run: ['dbt', 'build', '--select', 'customers'] });
    expect(report.group).toBe('reporting');
    expect(report.retry).toMatchObject({ attempts: 3, backoff: 'exponential', delayMs: 30_000 });
    expect(report.config).toEqual({ cwd: '/srv/reports', run: ['make', 'report'] });
  });

  test('legacy `__` deps are normalised and the graph orders the merged assets', () => {
    const report = defs.assets.get('warehouse/report')!;
    expect(report.deps).toEqual(['warehouse/orders', 'warehouse/customers']);
    expect([...defs.graph.topoOrder()]).toEqual(['warehouse/customers', 'warehouse/orders', 'warehouse/report']);
  });

  test('positions of merged assets point at their own items', () => {
    expect([...defs.assets.values()].map((a) => [a.key, a.pos.line, a.pos.col])).toEqual([
      ['warehouse/orders', 4, 5],
      ['warehouse/customers', 12, 5],
      ['warehouse/report', 16, 5],
    ]);
  });
});
