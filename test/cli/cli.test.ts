/**
 * End-to-end tests of the built CLI (`node bin/runner.js`, the package's bin) for `list`,
 * `check` and `graph`: on the real `pipelines/`, on the small valid fixtures in
 * test/fixtures/good/, and on broken directories from test/fixtures/bad/ (exit 2, the
 * exact diagnostics, no stack trace).
 *
 * `npm run build` runs once before the tests when dist/ is older than the sources (an
 * up-to-date dist/ is not rebuilt, so tests of other areas that run bin/runner.js at the
 * same time never see dist/ disappear); the tests then run a private copy of bin/ and dist/.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../support/bundle.js';
import { copyBuiltCli } from '../support/cli-copy.js';

/** A private copy of bin/ and dist/ (see beforeAll). */
const COPY = path.join(PROJECT_ROOT, 'node_modules', '.cache', `runner-cli-e2e-${process.pid}`);
const BIN = path.join(COPY, 'bin', 'runner.js');
const BAD = path.join(PROJECT_ROOT, 'test/fixtures/bad');
const GOOD = path.join(PROJECT_ROOT, 'test/fixtures/good');
let home: string;


beforeAll(async () => {
  await copyBuiltCli(COPY);
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-cli-e2e-'));
}, 120_000);
afterAll(() => {
  if (home) fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(COPY, { recursive: true, force: true });
});

/** Runs `node bin/runner.js ...args` (in the project root unless `cwd`), never throwing. */
async function runner(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  const env: Record<string, string | undefined> = { RUNNER_HOME: home, NO_COLOR: '1', RUNNER_ENV: undefined, DAGSTER_ENV: undefined, ...opts.env };
  const r = await execa(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? PROJECT_ROOT, env, extendEnv: true, reject: false, timeout: 60_000, stripFinalNewline: false });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** No stack trace and no internal error in what a user sees. */
function expectNoStack(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(text).not.toContain('internal error');
}

interface ListJson {
  assets: Array<{ key: string; group: string; handler: string; deps: string[]; description: string | null; tags: Record<string, string>; kinds: string[]; owners: string[] }>;
  jobs: Array<{ name: string; select: string; assets: string[] }>;
  schedules: Array<{ name: string; cron: string; timezone: string; default_status: string; next_tick: string | null }>;
  notifications: Array<{ name: string; on: string[] }>;
}

async function listJson(args: string[]): Promise<ListJson> {
  const r = await runner(['list', '--json', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ListJson;
}

/** Every asset comes after all of its deps that are in the list. */
function expectTopological(keys: string[], depsOf: (k: string) => string[]): void {
  const at = new Map(keys.map((k, i) => [k, i]));
  for (const k of keys) for (const d of depsOf(k)) if (at.has(d)) expect(at.get(d)!, `${d} before ${k}`).toBeLessThan(at.get(k)!);
}

describe('on the real pipelines/', () => {
  test('list --json prints one document with assets in topological order', async () => {
    const doc = await listJson([]);
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(['assets', 'jobs', 'schedules', 'notifications']));
    expect(doc.assets).toHaveLength(12);
    for (const a of doc.assets) {
      expect(Object.keys(a).sort()).toEqual(['deps', 'description', 'group', 'handler', 'key', 'kinds', 'owners', 'tags']);
      expect(a.group).toBe('openmetadata');
      expect(a.handler).toBe('openmetadata');
    }
    const deps = new Map(doc.assets.map((a) => [a.key, a.deps]));
    expectTopological(doc.assets.map((a) => a.key), (k) => deps.get(k)!);
    expect(doc.jobs.map((j) => [j.name, j.assets.length])).toEqual([
      ['openmetadata_ingestion', 12],
      ['critical_metadata_ingestion', 3],
    ]);
    expect(doc.schedules.map((s) => [s.name, s.cron, s.timezone, s.default_status])).toEqual([
      ['metadata_ingestion_schedule', '0 2 * * *', 'UTC', 'stopped'],
      ['critical_metadata_schedule', '0 */4 * * *', 'UTC', 'stopped'],
    ]);
    for (const s of doc.schedules) expect(s.next_tick).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/);
    expect(doc.notifications.map((n) => n.name)).toEqual(['run_failure_slack']);
  });

  test.each([
    ['openmetadata/*', 12],
    ['group:openmetadata', 12],
    ['job:critical_metadata_ingestion', 3],
    ['+openmetadata/trino/lineage', 2],
    ['openmetadata/trino/metadata+', 3],
    ['openmetadata__trino__metadata', 1],
  ])('list --select %s selects %i', async (expr, n) => {
    const doc = await listJson(['--select', expr]);
    expect(doc.assets).toHaveLength(n);
    const deps = new Map(doc.assets.map((a) => [a.key, a.deps]));
    expectTopological(doc.assets.map((a) => a.key), (k) => deps.get(k)!);
  });

  test('the graph selections name the expected assets', async () => {
    expect((await listJson(['--select', '+openmetadata/trino/lineage'])).assets.map((a) => a.key)).toEqual([
      'openmetadata/trino/metadata',
      'openmetadata/trino/lineage',
    ]);
    expect((await listJson(['--select', 'openmetadata__trino__metadata'])).assets.map((a) => a.key)).toEqual(['openmetadata/trino/metadata']);
    expect((await listJson(['--select', 'job:critical_metadata_ingestion'])).assets.map((a) => a.key).sort()).toEqual([
      'openmetadata/dagster/metadata',
      'openmetadata/dbt/metadata',
      'openmetadata/trino/metadata',
    ]);
  });

  test('list prints tables', async () => {
    const r = await runner(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Assets \(12\)\n/);
    expect(r.stdout).toContain('\nJobs (2)\n');
    expect(r.stdout).toContain('\nSchedules (2)\n');
    expect(r.stdout).toContain('\nNotifications (1)\n');
  });

  test('check exits 0 and summarises', async () => {
    const r = await runner(['check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: 12 assets, 2 jobs, 2 schedules, 3 environments, 5 secrets, 1 notification, \d+ watchers? \(/);
  });

  test('check --json reports the chosen environment', async () => {
    const r = await runner(['check', '--json'], { env: { RUNNER_ENV: 'qa' } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, env: 'qa', summary: { assets: 12, jobs: 2, schedules: 2 } });
  });

  test('graph --format json: one node per asset, one edge per dependency', async () => {
    const doc = await listJson([]);
    const r = await runner(['graph', '--format', 'json']);
    expect(r.code).toBe(0);
    const g = JSON.parse(r.stdout) as { nodes: Array<{ key: string }>; edges: Array<{ from: string; to: string }> };
    expect(g.nodes.map((n) => n.key).sort()).toEqual(doc.assets.map((a) => a.key).sort());
    const expectedEdges = doc.assets.flatMap((a) => a.deps.map((d) => `${d} -> ${a.key}`)).sort();
    expect(g.edges.map((e) => `${e.from} -> ${e.to}`).sort()).toEqual(expectedEdges);
    expect(expectedEdges.length).toBeGreaterThan(0);
  });

  test('graph --format mermaid and dot', async () => {
    const doc = await listJson([]);
    const edges = doc.assets.reduce((n, a) => n + a.deps.length, 0);
    const mermaid = await runner(['graph', '--format', 'mermaid']);
    expect(mermaid.code).toBe(0);
    const ml = mermaid.stdout.trimEnd().split('\n');
    expect(ml[0]).toBe('graph LR');
    expect(ml.filter((l) => /^ {2}\w+\["[^"]+"\]$/.test(l))).toHaveLength(12);
    expect(ml.filter((l) => /^ {2}\w+ --> \w+$/.test(l))).toHaveLength(edges);
    expect(mermaid.stdout).toContain('["openmetadata/trino/lineage"]');

    const dot = await runner(['graph', '--format', 'dot']);
    expect(dot.code).toBe(0);
    expect(dot.stdout).toMatch(/^digraph assets \{\n/);
    expect(dot.stdout).toContain('  "openmetadata/trino/metadata" -> "openmetadata/trino/lineage";\n');
    expect(dot.stdout.match(/ -> /g)).toHaveLength(edges);
    expect(dot.stdout.trimEnd().endsWith('}')).toBe(true);
  });

  test('graph --select keeps only the selected nodes and the edges between them', async () => {
    const r = await runner(['graph', '--format', 'json', '--select', '+openmetadata/trino/lineage']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      nodes: [
        { key: 'openmetadata/trino/metadata', group: 'openmetadata', handler: 'openmetadata' },
        { key: 'openmetadata/trino/lineage', group: 'openmetadata', handler: 'openmetadata' },
      ],
      edges: [{ from: 'openmetadata/trino/metadata', to: 'openmetadata/trino/lineage' }],
    });
  });

  test('a selection that matches nothing exits 2 with the closest names and a caret', async () => {
    const r = await runner(['list', '--select', 'openmetadata/trino/metdata']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown asset key 'openmetadata/trino/metdata' (did you mean 'openmetadata/trino/metadata'");
    expect(r.stderr).toContain('  ^^^^^^^^^^^^^^^^^^^^^^^^^^');
    expectNoStack(r.stderr);
  });
});

describe('on small valid fixtures', () => {
  test('list --json on a directory using anchors and merge keys', async () => {
    const doc = await listJson(['-p', path.join(GOOD, 'anchors')]);
    expect(doc.assets).toEqual([
      { key: 'warehouse/customers', group: 'warehouse', handler: 'command', deps: [], description: null, tags: { tier: 'gold', source: 'erp' }, kinds: [], owners: ['data-platform@example.org'] },
      { key: 'warehouse/orders', group: 'warehouse', handler: 'command', deps: [], description: null, tags: { tier: 'gold', source: 'erp' }, kinds: [], owners: ['data-platform@example.org'] },
      { key: 'warehouse/report', group: 'reporting', handler: 'command', deps: ['warehouse/orders', 'warehouse/customers'], description: null, tags: {}, kinds: [], owners: ['data-platform@example.org'] },
    ]);
    expect(doc.jobs).toEqual([]);
  });

  test('check --env NAME: an unknown name exits 2 and lists the defined ones', async () => {
    const r = await runner(['check', '-p', path.join(GOOD, 'environments'), '--env', 'prod']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("environment `prod` (from --env) does not exist (did you mean 'production'?); defined: dev, qa, production\n");
  });

  test('check: RUNNER_ENV wins over DAGSTER_ENV, --env over both', async () => {
    const dir = path.join(GOOD, 'environments');
    const env = async (args: string[], vars: Record<string, string>) => {
      const r = await runner(['check', '--json', '-p', dir, ...args], { env: { RUNNER_TEST_REGION: 'eu-west-1', ...vars } });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { env: string }).env;
    };
    expect(await env([], {})).toBe('dev');
    expect(await env([], { DAGSTER_ENV: 'qa' })).toBe('qa');
    expect(await env([], { DAGSTER_ENV: 'qa', RUNNER_ENV: 'production' })).toBe('production');
    expect(await env(['--env', 'dev'], { DAGSTER_ENV: 'qa', RUNNER_ENV: 'production' })).toBe('dev');
  });

  test('check: an unknown RUNNER_ENV says where the name came from', async () => {
    const r = await runner(['check', '-p', path.join(GOOD, 'environments')], { env: { RUNNER_ENV: 'staging', DAGSTER_ENV: 'qa' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('environment `staging` (from RUNNER_ENV) does not exist; defined: dev, qa, production\n');
  });

  test('check: an environment variable without default that is unset is reported for the chosen environment', async () => {
    const r = await runner(['check', '-p', path.join(GOOD, 'environments'), '--env', 'production'], { env: { RUNNER_TEST_REGION: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pipeline\.yaml:12:3: environment `production`: vars\.region: environment variable RUNNER_TEST_REGION is not set/);
    expectNoStack(r.stderr);
  });
});

describe('on broken directories (exit 2, every diagnostic, no stack trace)', () => {
  // Run from the corpus root so that paths read as in expected.txt.
  test.each(['multi-file-errors', 'many-cross-file-errors', 'cycle-three', 'job-unknown-group', 'yaml-unclosed-quote', 'duplicate-asset-keys', 'empty-dir'])(
    '%s: check prints exactly expected.txt',
    async (name) => {
      const expected = fs.readFileSync(path.join(BAD, name, 'expected.txt'), 'utf8');
      for (const command of ['check', 'list', 'graph']) {
        const r = await runner([command, '-p', name], { cwd: BAD });
        expect(r.code, `${command} ${name}: ${r.stderr}`).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toBe(expected);
        expectNoStack(r.stderr);
      }
    },
  );

  test('a missing directory exits 2 with one line', async () => {
    const r = await runner(['check', '-p', 'no/such/dir'], { cwd: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`pipelines directory \`no/such/dir\` does not exist in ${fs.realpathSync(home)} (the current directory): pass -p DIR or set RUNNER_PIPELINES to use another\n`);
  });

  test('bad flags exit 2', async () => {
    const format = await runner(['graph', '--format', 'png', '-p', path.join(GOOD, 'anchors')]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("argument 'png' is invalid. Allowed choices are mermaid, dot, json.");
    const unknown = await runner(['list', '--selct', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--selct'");
    expectNoStack(format.stderr + unknown.stderr);
  });
});

/** The command names of a help text's `Commands:` block (without `help`). */
function subcommands(help: string): string[] {
  const block = help.split(/^Commands:\n/m)[1]?.split(/\n\n/)[0] ?? '';
  return [...block.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

describe('--help', () => {
  test('every command and sub-command shows usage and examples', async () => {
    const top = await runner(['--help']);
    expect(top.code).toBe(0);
    const commands = subcommands(top.stdout);
    expect(commands).toEqual(expect.arrayContaining(['list', 'check', 'graph']));
    const missing: string[] = [];
    const visit = async (path: string[]) => {
      const r = await runner([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: runner ${path.join(' ')}`);
      const subs = subcommands(r.stdout);
      if (subs.length > 0) for (const s of subs) await visit([...path, s]);
      else if (!/Examples?:/.test(r.stdout)) missing.push(path.join(' '));
    };
    for (const c of commands) await visit([c]);
    expect(missing, 'commands whose --help shows no examples').toEqual([]);
  });

  test.each(['list', 'check', 'graph'])('%s --help shows its examples', async (command) => {
    const r = await runner([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain(`  runner ${command}`);
    expect(r.stdout).toContain('-p, --pipelines <dir>');
  });
});
