/**
 * The CLI as a new user meets it on a fresh clone, through the built CLI: the commands the
 * end of a run suggests work when copied, a missing pipelines directory says where it was
 * looked for, a typo in a pattern gets a "did you mean", `--help` has examples, the bin
 * works through a symlink (`npm link`) from any directory, serve names the UI's address,
 * and a cause shared by many failed steps is said once per view.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../support/bundle.js';
import { copyBuiltCli } from '../support/cli-copy.js';
import { startServe } from '../serve/proc.js';

/** A private copy of bin/ and dist/ (as in cli.test.ts: a rebuild elsewhere cannot pull it away). */
const COPY = path.join(PROJECT_ROOT, 'node_modules', '.cache', `runner-rough-edges-${process.pid}`);
const BIN = path.join(COPY, 'bin', 'runner.js');
const PIPELINES = path.join(PROJECT_ROOT, 'pipelines');
let tmp: string;

beforeAll(async () => {
  await copyBuiltCli(COPY);
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'runner-rough-')));
}, 120_000);
afterAll(() => {
  fs.rmSync(COPY, { recursive: true, force: true });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A fresh directory under the test's temp dir. */
function dir(name: string): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** Runs `bin` (default: the copy's bin/runner.js) in `cwd`, without RUNNER_HOME / RUNNER_PIPELINES / RUNNER_ENV unless given. */
async function runner(args: string[], opts: { cwd: string; env?: Record<string, string | undefined>; bin?: string }) {
  const env = { NO_COLOR: '1', RUNNER_HOME: undefined, RUNNER_PIPELINES: undefined, RUNNER_ENV: undefined, DAGSTER_ENV: undefined, ...opts.env };
  const cmd = opts.bin ?? process.execPath;
  const argv = opts.bin ? args : [BIN, ...args];
  const r = await execa(cmd, argv, { cwd: opts.cwd, env, extendEnv: true, reject: false, timeout: 60_000, stripFinalNewline: false });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function expectNoStack(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(text).not.toContain('internal error');
}

describe('the end of a run', () => {
  test('prints the runner logs and runner retry commands with the -p the run used, and both work as printed', async () => {
    const cwd = dir('hints');
    fs.cpSync(path.join(PROJECT_ROOT, 'examples', 'quickstart'), path.join(cwd, 'examples', 'quickstart'), { recursive: true });
    const run = await runner(['materialize', '-p', 'examples/quickstart', '--select', '*', '--output', 'plain'], { cwd, env: { QUICKSTART_FAIL: '1' } });
    expect(run.code).toBe(1);
    const logs = /\((runner logs (\w{8}) -p examples\/quickstart) \[KEY\]\)/.exec(run.stdout);
    expect(logs, run.stdout).not.toBeNull();
    const retry = /^Retry: {2}(runner retry \w{8} -p examples\/quickstart) {2}\(runs the 2 steps that did not succeed\)$/m.exec(run.stdout);
    expect(retry, run.stdout).not.toBeNull();

    const words = (cmd: string) => cmd.split(' ').slice(1);
    const shown = await runner([...words(logs![1]!), 'quickstart/marts/revenue'], { cwd });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('error: revenue does not balance');
    // Without the -p it would look in ./.runner, which has no runs.
    expect((await runner(['logs', logs![2]!], { cwd })).code).toBe(2);

    const again = await runner([...words(retry![1]!), '--output', 'plain'], { cwd });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Run success in .*: 2 success/);
    expect(again.stdout).not.toContain('Retry:');
  });

  test('a cause shared by every step (the OpenMetadata CLI is missing) is said once in each view, with the steps counted', async () => {
    // PATH holds only node: no `metadata` anywhere.
    const bin = dir('only-node');
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const r = await runner(['materialize', '-p', PIPELINES, '--select', 'openmetadata/*', '--env', 'dev', '--output', 'plain'], {
      cwd: dir('om-missing'),
      env: { PATH: bin, RUNNER_HOME: dir('om-missing-home'), VAULT_TOKEN: undefined, SLACK_WEBHOOK_URL: undefined, HOME: dir('om-missing-user') },
    });
    expect(r.code).toBe(1);
    const all = r.stdout + r.stderr;
    const cause = '`metadata` not found';
    // The live line of the first step, the printed Slack alert, the summary.
    expect(all.split(cause)).toHaveLength(4);
    expect(r.stdout.match(/✖ failure: same error as openmetadata\/airbyte\/metadata$/gm)).toHaveLength(7);
    expect(r.stdout).toContain('✖ 8 steps failed with the same error: openmetadata/airbyte/metadata, openmetadata/dagster/metadata,');
    expect(r.stderr).toContain('✗ 8 steps failed with the same error:');
    expect(r.stdout).toContain('Run failure in');
    expect(r.stdout).toContain(': 8 failure, 4 skipped');
  });
});

describe('the pipelines directory', () => {
  test('a missing one says relative to which directory, and how to choose another', async () => {
    const cwd = dir('missing');
    const r = await runner(['list'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`pipelines directory \`pipelines\` does not exist in ${cwd} (the current directory): pass -p DIR or set RUNNER_PIPELINES to use another\n`);
    const env = await runner(['check'], { cwd, env: { RUNNER_PIPELINES: 'conf/pipelines' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toBe(`pipelines directory \`conf/pipelines\` (from RUNNER_PIPELINES) does not exist in ${cwd} (the current directory): pass -p DIR or set RUNNER_PIPELINES to use another\n`);
    const serve = await runner(['serve', '--port', '0'], { cwd });
    expect(serve.code).toBe(2);
    expect(serve.stderr).toContain('pipelines directory `pipelines` does not exist in');
    expectNoStack(r.stderr + env.stderr + serve.stderr);
  });

  test('RUNNER_PIPELINES chooses it; -p wins over it', async () => {
    const cwd = dir('env-dir');
    fs.cpSync(path.join(PROJECT_ROOT, 'examples', 'quickstart'), path.join(cwd, 'conf', 'quick'), { recursive: true });
    const viaEnv = await runner(['list', '--json'], { cwd, env: { RUNNER_PIPELINES: 'conf/quick' } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(JSON.parse(viaEnv.stdout).assets.length).toBeGreaterThan(0);
    const flag = await runner(['list', '--json', '-p', PIPELINES], { cwd, env: { RUNNER_PIPELINES: 'conf/quick' } });
    expect(flag.code, flag.stderr).toBe(0);
    expect(JSON.parse(flag.stdout).assets).toHaveLength(12);
  });
});

describe('help and typos', () => {
  test('a typo in a pattern gets a "did you mean"', async () => {
    const r = await runner(['list', '-p', PIPELINES, '--select', 'openmetdata/*'], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("no asset key matches 'openmetdata/*' (did you mean 'openmetadata/*'?)\n  openmetdata/*\n  ^^^^^^^^^^^^^\n");
  });

  test('the top-level --help has examples, RUNNER_PIPELINES and the exit codes', async () => {
    const r = await runner(['--help'], { cwd: tmp });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\nExamples:\n  runner list ');
    expect(r.stdout).toContain("  runner materialize -p examples/quickstart --select '*'\n");
    expect(r.stdout).toContain('  runner retry 3f2a9c1e -p examples/quickstart');
    expect(r.stdout).toContain('RUNNER_PIPELINES');
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 a step or check failed, 2 bad input');
    expect(r.stdout).toMatch(/^ {2}retry \[options\] \[run-id\] /m);
  });
});

describe('installing the command', () => {
  test('the bin works through npm link’s symlinks, from another directory', async () => {
    // As `npm link` lays it out: <prefix>/bin/runner -> ../lib/node_modules/runner/bin/runner.js, and lib/node_modules/runner -> the checkout.
    const prefix = dir('prefix');
    fs.mkdirSync(path.join(prefix, 'lib', 'node_modules'), { recursive: true });
    fs.mkdirSync(path.join(prefix, 'bin'));
    fs.symlinkSync(COPY, path.join(prefix, 'lib', 'node_modules', 'runner'));
    fs.symlinkSync('../lib/node_modules/runner/bin/runner.js', path.join(prefix, 'bin', 'runner'));
    const cwd = dir('elsewhere');
    const env = { PATH: `${path.join(prefix, 'bin')}:${path.dirname(process.execPath)}:${process.env.PATH}`, RUNNER_HOME: dir('linked-home') };
    const version = await runner(['--version'], { cwd, env, bin: 'runner' });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).version);
    const list = await runner(['list', '--json', '-p', PIPELINES], { cwd, env, bin: 'runner' });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).assets).toHaveLength(12);
    // In a project directory, its pipelines/ is found without -p.
    fs.cpSync(path.join(PROJECT_ROOT, 'examples', 'quickstart'), path.join(cwd, 'pipelines'), { recursive: true });
    const run = await runner(['materialize', '--select', '*', '--output', 'plain'], { cwd, env, bin: 'runner' });
    expect(run.code, run.stderr).toBe(0);
  });

  test('npm shows dependencies’ install scripts (the better-sqlite3 compile) as they run', async () => {
    const r = await execa('npm', ['config', 'get', 'foreground-scripts'], { cwd: PROJECT_ROOT, reject: false });
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout).trim()).toBe('true');
  });
});

describe('runner serve', () => {
  test('its start-up line names the web UI’s address', async () => {
    const home = dir('serve-home');
    const s = await startServe(tmp, ['-p', PIPELINES], { RUNNER_HOME: home, NO_COLOR: '1' });
    try {
      const line = s.lines.find((l) => l.includes('serving on'))!;
      expect(line).toContain(`serving on ${s.url} (web UI: ${s.url}/; /healthz, /readyz, /metrics)`);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });
});
