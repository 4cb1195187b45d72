/**
 * `runner retry RUN_ID` and `runner materialize --retries N`, end to end through the built
 * CLI: which steps a retry runs and in what order, what it records (`retry_of`, the
 * trigger), and every refusal (exit 2, nothing recorded).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { cliEntry, runCli, startCli } from './cli-entry.js';
import { tempDir, waitFor } from './helpers.js';
import { MAX_ATTEMPTS } from '../../src/definitions/model.js';
import { PROJECT_ROOT } from '../support/bundle.js';

const HEADER = '# yaml-language-server: $schema=../schemas/pipeline.schema.json\n';

interface JsonStep {
  key: string;
  status: string;
  attempts: number;
  error: string | null;
}
interface JsonRun {
  id: string;
  status: string;
  trigger: { type: string; retry_of?: string };
  retry_of: string | null;
  env: string;
  selection: string;
  steps: JsonStep[];
}

/** A project: pipelines/p.yaml with `yaml`, RUNNER_HOME in `home`. */
function project(yaml: string): { root: string; dir: string; env: Record<string, string>; write: (y: string) => void } {
  const root = tempDir('runner-retry-');
  const dir = path.join(root, 'pipelines');
  fs.mkdirSync(dir);
  const write = (y: string) => fs.writeFileSync(path.join(dir, 'p.yaml'), HEADER + y);
  write(yaml);
  return { root, dir, env: { RUNNER_HOME: path.join(root, 'home') }, write };
}

/** A `command` asset; `extra` is more YAML of the same item. */
function asset(key: string, run: string[], extra = ''): string {
  return `  - key: ${key}\n    handler: command\n    config: {run: ${JSON.stringify(run)}}\n${extra}`;
}

/** A step that fails until the file `marker` exists. */
function failsUntil(marker: string): string[] {
  return ['sh', '-c', `test -f '${marker}' || { echo "waiting for ${path.basename(marker)}"; exit 3; }`];
}

async function runs(p: { dir: string; env: Record<string, string> }): Promise<JsonRun[]> {
  const r = await runCli(['runs', '--json', '-p', p.dir], { env: p.env });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { runs: JsonRun[] }).runs;
}

async function show(p: { dir: string; env: Record<string, string> }, id: string): Promise<JsonRun> {
  const r = await runCli(['show', id, '--json', '-p', p.dir], { env: p.env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as JsonRun;
}

/** The keys of `step_started` events of `--output json`, in order. */
function startedKeys(stdout: string): string[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; key?: string })
    .filter((e) => e.type === 'step_started')
    .map((e) => e.key!);
}

function expectClean(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(stderr).not.toContain('internal error');
}

beforeAll(async () => {
  await cliEntry();
}, 60_000);

/**
 * a → b → c → d, and e on its own; b fails until `ok` exists, so the first run has a and
 * e succeeded, b failed, c and d skipped.
 */
function failedChain() {
  const root = tempDir('runner-retry-marker-');
  const marker = path.join(root, 'ok');
  const p = project(
    `environments:\n  default: dev\n  dev: {}\n  qa: {}\nassets:\n${asset('a', ['true'])}${asset('b', failsUntil(marker), '    deps: [a]\n')}${asset('c', ['true'], '    deps: [b]\n')}${asset('d', ['true'], '    deps: [c]\n')}${asset('e', ['true'])}`,
  );
  return { ...p, marker };
}

describe('runner retry (built CLI)', () => {
  it('re-runs exactly the failed and skipped steps, in dependency order, as a retry of the run', async () => {
    const p = failedChain();
    const first = await runCli(['materialize', '-p', p.dir, '--select', '*', '--env', 'qa', '--output', 'plain'], { env: p.env });
    expect(first.code).toBe(1);
    const [failed] = await runs(p);
    expect(failed!.steps.map((s) => [s.key, s.status])).toEqual([
      ['a', 'success'],
      ['b', 'failure'],
      ['c', 'skipped'],
      ['d', 'skipped'],
      ['e', 'success'],
    ]);
    // The summary says how to retry it (RUNNER_HOME finds the store: no -p needed).
    expect(first.stdout).toContain(`Retry:  runner retry ${failed!.id.slice(0, 8)}  (runs the 3 steps that did not succeed)`);

    fs.writeFileSync(p.marker, '');
    const r = await runCli(['retry', failed!.id.slice(0, 8), '-p', p.dir, '--output', 'json'], { env: p.env });
    // Which run it retries, then the summary: on stderr with --output json.
    expect(r.stderr).toMatch(new RegExp(`^runner: retrying run ${failed!.id.slice(0, 8)} \\(failure\\): 3 of 5 steps did not succeed\n\nRun success in .*: 3 success\n`));
    expect(r.code).toBe(0);
    expect(startedKeys(r.stdout)).toEqual(['b', 'c', 'd']);

    const all = await runs(p);
    expect(all).toHaveLength(2);
    const retry = all[0]!;
    expect(retry.id).not.toBe(failed!.id);
    expect(retry.status).toBe('success');
    expect(retry.retry_of).toBe(failed!.id);
    expect(retry.trigger).toEqual({ type: 'retry', retry_of: failed!.id });
    expect(retry.env).toBe('qa'); // the run's environment, not environments.default
    expect(retry.steps.map((s) => [s.key, s.status])).toEqual([
      ['b', 'success'],
      ['c', 'success'],
      ['d', 'success'],
    ]);
    expect(await show(p, retry.id)).toMatchObject({ retry_of: failed!.id, trigger: { type: 'retry', retry_of: failed!.id } });
    // The first run is left as it was.
    expect((await show(p, failed!.id)).retry_of).toBeNull();

    const table = await runCli(['runs', '-p', p.dir], { env: p.env });
    expect(table.stdout).toContain(`retry of ${failed!.id.slice(0, 8)}`);
    const page = await runCli(['show', retry.id, '-p', p.dir], { env: p.env });
    expect(page.stdout).toContain(`trigger   retry of ${failed!.id}`);
    const original = await runCli(['show', failed!.id, '-p', p.dir], { env: p.env });
    expect(original.stdout).toContain(`retried   ${retry.id.slice(0, 8)} (success)\n`);
  });

  it('without a run id, retries the latest run (as dbt retry does)', async () => {
    const p = failedChain();
    expect((await runCli(['materialize', '-p', p.dir, '--select', '*', '--output', 'plain'], { env: p.env })).code).toBe(1);
    const [failed] = await runs(p);
    fs.writeFileSync(p.marker, '');
    const r = await runCli(['retry', '-p', p.dir, '--output', 'plain'], { env: p.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`runner: retrying run ${failed!.id.slice(0, 8)} (failure): 3 of 5 steps did not succeed\n`);
    expect((await runs(p))[0]!.retry_of).toBe(failed!.id);
    // The latest run is now the retry, which succeeded.
    const again = await runCli(['retry', '-p', p.dir], { env: p.env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^run \w{8} succeeded: there is nothing to retry/);
    const empty = project(`assets:\n${asset('a', ['true'])}`);
    const none = await runCli(['retry', '-p', empty.dir], { env: empty.env });
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`no run to retry: no runs are recorded in ${empty.env.RUNNER_HOME}\n`);
  });

  it('--dry-run prints the plan of the retry and records nothing', async () => {
    const p = failedChain();
    expect((await runCli(['materialize', '-p', p.dir, '--select', '*', '--output', 'plain'], { env: p.env })).code).toBe(1);
    const [failed] = await runs(p);
    const r = await runCli(['retry', failed!.id, '-p', p.dir, '--dry-run'], { env: p.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Plan for the retry of failed run ${failed!.id.slice(0, 8)} (environment dev): 3 steps`);
    expect([...r.stdout.matchAll(/^\d+\. (\S+)/gm)].map((m) => m[1])).toEqual(['b', 'c', 'd']);
    expect(r.stdout).toContain('2. c  (handler command)\n   after: b');
    expect(await runs(p)).toHaveLength(1);
  });

  it('refuses a run that succeeded: exit 2, nothing recorded', async () => {
    const p = project(`assets:\n${asset('a', ['true'])}`);
    expect((await runCli(['materialize', '-p', p.dir, '--select', 'a', '--output', 'plain'], { env: p.env })).code).toBe(0);
    const [ok] = await runs(p);
    const r = await runCli(['retry', ok!.id, '-p', p.dir], { env: p.env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`run ${ok!.id.slice(0, 8)} succeeded: there is nothing to retry (run it again with \`runner materialize\`)\n`);
    expect(await runs(p)).toHaveLength(1);
  });

  it('refuses when the pipeline files no longer define a step to retry, naming it', async () => {
    const p = failedChain();
    expect((await runCli(['materialize', '-p', p.dir, '--select', '*', '--output', 'plain'], { env: p.env })).code).toBe(1);
    const [failed] = await runs(p);
    // c is removed (d now depends on b directly); b, c and d did not succeed.
    p.write(`environments:\n  default: dev\n  dev: {}\nassets:\n${asset('a', ['true'])}${asset('b', ['true'], '    deps: [a]\n')}${asset('d', ['true'], '    deps: [b]\n')}${asset('e', ['true'])}`);
    const r = await runCli(['retry', failed!.id, '-p', p.dir], { env: p.env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`cannot retry run ${failed!.id.slice(0, 8)}: the pipeline files in ${p.dir} no longer define the asset of a step to retry: \`c\``);
    expectClean(r.stderr);
    expect(await runs(p)).toHaveLength(1);
  });

  it('refuses when the run\'s environment is gone, unless --env names another', async () => {
    const p = failedChain();
    expect((await runCli(['materialize', '-p', p.dir, '--select', '*', '--env', 'qa', '--output', 'plain'], { env: p.env })).code).toBe(1);
    const [failed] = await runs(p);
    p.write(`environments:\n  default: dev\n  dev: {}\nassets:\n${asset('a', ['true'])}${asset('b', ['true'], '    deps: [a]\n')}${asset('c', ['true'], '    deps: [b]\n')}${asset('d', ['true'], '    deps: [c]\n')}${asset('e', ['true'])}`);
    const r = await runCli(['retry', failed!.id, '-p', p.dir], { env: p.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`run ${failed!.id.slice(0, 8)} ran in environment \`qa\`, which the pipeline files no longer define: pass --env NAME (defined: dev)\n`);
    expect(await runs(p)).toHaveLength(1);
    const dev = await runCli(['retry', failed!.id, '-p', p.dir, '--env', 'dev', '--output', 'plain'], { env: p.env });
    expect(dev.code, dev.stderr).toBe(0);
    expect((await runs(p))[0]).toMatchObject({ env: 'dev', retry_of: failed!.id });
  });

  it('refuses a run that is still running, and an unknown run id', async () => {
    const root = tempDir('runner-retry-running-');
    const started = path.join(root, 'started');
    const p = project(`assets:\n${asset('slow', ['sh', '-c', `touch '${started}'; sleep 30`])}${asset('after', ['true'], '    deps: [slow]\n')}`);
    const live = await startCli(['materialize', '-p', p.dir, '--select', '*', '--output', 'plain'], { env: { ...p.env, RUNNER_KILL_GRACE: '1s' } });
    try {
      await waitFor(() => fs.existsSync(started), 15_000, 'the step to start');
      const [running] = await runs(p);
      expect(running!.status).toBe('started');
      const r = await runCli(['retry', running!.id, '-p', p.dir], { env: p.env });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`run ${running!.id.slice(0, 8)} is still running: wait for it to finish or cancel it, then retry it\n`);
    } finally {
      live.child.kill('SIGTERM');
      await live.exit;
    }
    expect(await runs(p)).toHaveLength(1);
    const unknown = await runCli(['retry', 'ffffffff', '-p', p.dir], { env: p.env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('no run has id `ffffffff` (see `runner runs`)\n');
  });

  it('retries the steps a canceled run never started, and those of a run whose runner died', async () => {
    const root = tempDir('runner-retry-killed-');
    const started = path.join(root, 'started');
    const done = path.join(root, 'done');
    // `slow` hangs the first time; once `done` exists it succeeds at once.
    const slow = ['sh', '-c', `test -f '${done}' && exit 0; touch '${started}'; sleep 30`];
    const p = project(`assets:\n${asset('quick', ['true'])}${asset('slow', slow, '    deps: [quick]\n')}${asset('after', ['true'], '    deps: [slow]\n')}`);
    const live = await startCli(['materialize', '-p', p.dir, '--select', '*', '--output', 'plain'], { env: p.env });
    await waitFor(() => fs.existsSync(started), 15_000, 'the step to start');
    await new Promise((r) => setTimeout(r, 200));
    live.child.kill('SIGKILL');
    await live.exit;
    fs.writeFileSync(done, '');
    // Opening the store reaps the dead run: `slow` failed (the runner exited), `after` never started.
    const r = await runCli(['retry', (await runs(p))[0]!.id, '-p', p.dir, '--output', 'json'], { env: p.env });
    expect(r.stderr).toMatch(/^runner: retrying run \w{8} \(failure\): 2 of 3 steps did not succeed\n\nRun success in .*: 2 success\n/);
    expect(r.code).toBe(0);
    expect(startedKeys(r.stdout)).toEqual(['slow', 'after']);
    const [retry, dead] = await runs(p);
    expect(dead!.status).toBe('failure');
    expect(dead!.steps.map((s) => [s.key, s.status])).toEqual([
      ['quick', 'success'],
      ['slow', 'failure'],
      ['after', 'canceled'],
    ]);
    expect(retry!.retry_of).toBe(dead!.id);
    expect(retry!.steps.map((s) => [s.key, s.status])).toEqual([
      ['slow', 'success'],
      ['after', 'success'],
    ]);
  });
});

describe('runner materialize --retries N (built CLI)', () => {
  it('its bound is the schema\'s most attempts', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'schemas/pipeline.schema.json'), 'utf8'));
    expect(schema.definitions.RetryPolicy.properties.attempts.maximum).toBe(MAX_ATTEMPTS);
  });

  const flaky = (root: string) => {
    const count = path.join(root, 'count');
    // Fails every time, counting its attempts.
    return asset('flaky', ['sh', '-c', `echo x >> '${count}'; exit 1`], '    retry: {attempts: 3, delay: 10ms, jitter: false}\n');
  };
  const attempts = (root: string) => fs.readFileSync(path.join(root, 'count'), 'utf8').trim().split('\n').length;

  it('--retries 0 runs every step once, whatever its retry policy', async () => {
    const root = tempDir();
    const p = project(`assets:\n${flaky(root)}`);
    const r = await runCli(['materialize', '-p', p.dir, '--select', '*', '--retries', '0', '--output', 'plain'], { env: p.env });
    expect(r.code).toBe(1);
    expect(attempts(root)).toBe(1);
    expect((await runs(p))[0]!.steps[0]).toMatchObject({ key: 'flaky', status: 'failure', attempts: 1 });
  });

  it('--retries N gives every step N + 1 attempts; without it the policy applies', async () => {
    const root = tempDir();
    const p = project(`assets:\n${flaky(root)}`);
    const r = await runCli(['materialize', '-p', p.dir, '--select', '*', '--retries', '1', '--output', 'plain'], { env: p.env });
    expect(r.code).toBe(1);
    expect(attempts(root)).toBe(2);
    fs.rmSync(path.join(root, 'count'));
    await runCli(['materialize', '-p', p.dir, '--select', '*', '--output', 'plain'], { env: p.env });
    expect(attempts(root)).toBe(3);
    const dry = await runCli(['materialize', '-p', p.dir, '--select', '*', '--retries', '4', '--dry-run'], { env: p.env });
    expect(dry.stdout).toContain('5 attempts, fixed backoff from 10ms');
  }, 90_000); // three runs of the built CLI

  it('rejects a --retries that is not a whole number from 0 to 99 (exit 2, nothing run)', async () => {
    const root = tempDir();
    const p = project(`assets:\n${flaky(root)}`);
    for (const bad of ['100', '-1', 'two', '1.5', '']) {
      const r = await runCli(['materialize', '-p', p.dir, '--select', '*', '--retries', bad], { env: p.env });
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(`--retries must be a whole number from 0 to 99 (retries after the first attempt; retry.attempts is at most 100), not \`${bad}\``);
      expectClean(r.stderr);
    }
    expect(fs.existsSync(path.join(root, 'count'))).toBe(false);
    const retry = await runCli(['retry', 'abc', '-p', p.dir, '--retries', '100'], { env: p.env });
    expect(retry.code).toBe(2);
    expect(retry.stderr).toContain('--retries must be a whole number from 0 to 99');
  });
});
