import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { cliEntry, runCli, startCli } from './cli-entry.js';
import { maxOverlap, probe, spans, tempDir, waitFor } from './helpers.js';
import { pidAlive } from '../../src/execution/process-tree.js';

const SCHEMA_HEADER = '# yaml-language-server: $schema=../schemas/pipeline.schema.json\n';

/** A project with one pipeline file; returns its pipelines dir and RUNNER_HOME. */
function project(yaml: string): { dir: string; home: string; root: string } {
  const root = tempDir('runner-cli-');
  const dir = path.join(root, 'pipelines');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'p.yaml'), SCHEMA_HEADER + yaml);
  return { dir, home: path.join(root, 'home'), root };
}

/** A `command` asset as YAML (flow style: argv as JSON). */
function yamlAsset(key: string, run: string[], extra = ''): string {
  return `  - key: ${key}\n    handler: command\n    config: {run: ${JSON.stringify(run)}}\n${extra}`;
}

/** A step that records its pid and its sleeping child's pid, then waits. */
function sleeper(root: string, key: string, ignoreTerm = false): string[] {
  const f = path.join(root, key.replaceAll('/', '_'));
  return ['sh', '-c', `${ignoreTerm ? "trap '' TERM; " : ''}sleep 60 & echo $! > ${f}.gc; echo $$ > ${f}.pid; wait`];
}

function pidsOf(root: string, key: string): number[] {
  const f = path.join(root, key.replaceAll('/', '_'));
  return [`${f}.pid`, `${f}.gc`].map((p) => Number(fs.readFileSync(p, 'utf8').trim()));
}

function started(root: string, ...keys: string[]): boolean {
  return keys.every((k) => {
    const f = path.join(root, k.replaceAll('/', '_'));
    return fs.existsSync(`${f}.pid`) && fs.existsSync(`${f}.gc`) && fs.readFileSync(`${f}.gc`, 'utf8').trim() !== '';
  });
}

interface JsonRun {
  id: string;
  status: string;
  error: string | null;
  steps: Array<{ key: string; status: string; error: string | null; attempts: number; exit_code: number | null; log: string }>;
}

async function lastRun(dir: string, home: string): Promise<JsonRun | undefined> {
  const r = await runCli(['runs', '--json', '-p', dir], { env: { RUNNER_HOME: home } });
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { runs: JsonRun[] }).runs[0];
}

beforeAll(async () => {
  await cliEntry();
}, 60_000);

describe('runner materialize (built CLI)', () => {
  it('runs a selection, records it, and prints the summary (default concurrency from the pipeline files)', async () => {
    const root = tempDir('runner-cli-');
    const log = path.join(root, 'times.log');
    const p = project(`runner:\n  concurrency: 1\nassets:\n${['a', 'b', 'c'].map((k) => yamlAsset(`t/${k}`, probe(log, k, 100))).join('')}${yamlAsset('other', ['true'])}`);
    const r = await runCli(['materialize', '-p', p.dir, '--select', 't/*', '--output', 'plain'], { env: { RUNNER_HOME: p.home } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(maxOverlap(spans(log).values())).toBe(1);
    expect(r.stdout).toMatch(/Run success in .*: 3 success/);
    const run = (await lastRun(p.dir, p.home))!;
    expect(run.status).toBe('success');
    expect(run.steps.map((s) => [s.key, s.status])).toEqual([
      ['t/a', 'success'],
      ['t/b', 'success'],
      ['t/c', 'success'],
    ]);
    expect(r.stdout).toContain(`Run id: ${run.id}`);
  });

  it('exits 1 when a step fails, with the failure in the summary and in the run', async () => {
    const p = project(`assets:\n${yamlAsset('bad', ['sh', '-c', 'echo about to fail; echo broken >&2; exit 4'])}${yamlAsset('after', ['true'], '    deps: [bad]\n')}`);
    const r = await runCli(['materialize', '-p', p.dir, '--select', '*'], { env: { RUNNER_HOME: p.home } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✖ bad\n    exit code 4: broken\n    | about to fail\n    | broken');
    expect(r.stdout).toContain('↓ after: upstream bad failed');
    const run = (await lastRun(p.dir, p.home))!;
    expect(run.status).toBe('failure');
    expect(run.steps.find((s) => s.key === 'bad')).toMatchObject({ status: 'failure', exit_code: 4 });
    expect(fs.readFileSync(run.steps[0]!.log, 'utf8')).toBe('about to fail\nbroken\n');
  });

  it('prints one JSON event per line with --output json', async () => {
    const p = project(`assets:\n${yamlAsset('a', ['sh', '-c', 'echo hi'])}`);
    const r = await runCli(['materialize', '-p', p.dir, '--select', 'a', '--output', 'json'], { env: { RUNNER_HOME: p.home } });
    expect(r.code).toBe(0);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; line?: string; run_id: string });
    expect(events.map((e) => e.type)).toEqual(['run_started', 'step_started', 'log', 'step_succeeded', 'run_finished']);
    expect(events[2]!.line).toBe('hi');
    expect(new Set(events.map((e) => e.run_id)).size).toBe(1);
  });

  it('rejects bad input with exit 2 and records nothing', async () => {
    const p = project(`assets:\n${yamlAsset('a', ['true'])}${yamlAsset('b', ['echo', '${env:RUNNER_TEST_NOT_SET_ANYWHERE}'])}jobs:\n  - name: all\n    select: "*"\n`);
    const env = { RUNNER_HOME: p.home };
    const cases: Array<[string[], RegExp]> = [
      [['--job', 'al'], /unknown job `al` \(did you mean .all.\?\)/],
      [['--select', 'nothing_like_this'], /.+/],
      [['--select', 'a', '--job', 'all'], /either --select or --job/],
      [[], /--select EXPR or --job NAME/],
      [['--select', 'b'], /RUNNER_TEST_NOT_SET_ANYWHERE is not set/],
      [['--select', 'a', '--concurrency', '0'], /--concurrency must be a whole number from 1 to 1024, not `0`/],
      [['--select', 'a', '--output', 'fancy'], /Allowed choices are tty, plain, json/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['materialize', '-p', p.dir, ...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    }
    const runs = fs.existsSync(p.home) ? await lastRun(p.dir, p.home) : undefined;
    expect(runs).toBeUndefined();
  });

  it('--dry-run prints the plan with secrets masked and records nothing', async () => {
    const p = project(
      `secrets:\n  tok: {env: RUNNER_TEST_TOKEN}\nassets:\n${yamlAsset('up', ['echo', 'up'])}  - key: down\n    deps: [up]\n    handler: command\n    timeout: 5m\n    config: {run: [tool, --flag, "two words"], env: {TOKEN: "\${secret:tok}"}}\n`,
    );
    const r = await runCli(['materialize', '-p', p.dir, '--select', '*', '--dry-run'], { env: { RUNNER_HOME: p.home, RUNNER_TEST_TOKEN: 'hunter2-secret' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1. up  (handler command)\n   run:   echo up');
    expect(r.stdout).toContain("2. down  (handler command, timeout 5m 00s)\n   after: up\n   run:   tool --flag 'two words'\n   env:   TOKEN=***");
    expect(r.stdout).not.toContain('hunter2');
    expect(fs.existsSync(path.join(p.home, 'runner.db'))).toBe(false); // (the loader may keep a parse cache there)
  });
});

describe('runner materialize: cancel and crash (built CLI)', () => {
  it('Ctrl-C cancels the run: exit 130, every step canceled, no process left', async () => {
    const root = tempDir('runner-cli-');
    const p = project(`assets:\n${yamlAsset('s1', sleeper(root, 's1'))}${yamlAsset('s2', sleeper(root, 's2'))}${yamlAsset('after', ['true'], '    deps: [s1]\n')}`);
    const run = await startCli(['materialize', '-p', p.dir, '--select', '*', '--output', 'plain'], { env: { RUNNER_HOME: p.home, RUNNER_KILL_GRACE: '2s' } });
    await waitFor(() => started(root, 's1', 's2'), 15_000, 'both steps running');
    run.child.kill('SIGINT');
    const { code } = await run.exit;
    expect(code).toBe(130);
    expect(run.stderr()).toContain('canceling the run');
    const rec = (await lastRun(p.dir, p.home))!;
    expect(rec.status).toBe('canceled');
    expect(rec.steps.map((s) => s.status)).toEqual(['canceled', 'canceled', 'canceled']);
    for (const pid of [...pidsOf(root, 's1'), ...pidsOf(root, 's2')]) expect(pidAlive(pid)).toBe(false);
  });

  it('SIGTERM cancels with exit 143; a second signal kills children that ignore SIGTERM at once', async () => {
    const root = tempDir('runner-cli-');
    const p = project(`assets:\n${yamlAsset('stubborn', sleeper(root, 'stubborn', true))}`);
    const run = await startCli(['materialize', '-p', p.dir, '--select', '*', '--output', 'plain'], { env: { RUNNER_HOME: p.home, RUNNER_KILL_GRACE: '60s' } });
    await waitFor(() => started(root, 'stubborn'), 15_000, 'the step running');
    run.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    // The child ignores SIGTERM and the grace is a minute: only the second signal ends it now.
    expect(pidAlive(pidsOf(root, 'stubborn')[0]!)).toBe(true);
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const { code } = await run.exit;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(code).toBe(143);
    for (const pid of pidsOf(root, 'stubborn')) expect(pidAlive(pid)).toBe(false);
    const rec = (await lastRun(p.dir, p.home))!;
    expect(rec.status).toBe('canceled');
  });

  it('after the runner is SIGKILLed, the next command marks its run failed and reaps its children', async () => {
    const root = tempDir('runner-cli-');
    const p = project(`assets:\n${yamlAsset('s1', sleeper(root, 's1'))}${yamlAsset('s2', sleeper(root, 's2'))}`);
    const run = await startCli(['materialize', '-p', p.dir, '--select', '*', '--output', 'plain'], { env: { RUNNER_HOME: p.home } });
    await waitFor(() => started(root, 's1', 's2'), 15_000, 'both steps running');
    // The store records a child's pid as soon as it starts; give the step's event a moment too.
    await new Promise((r) => setTimeout(r, 200));
    run.child.kill('SIGKILL');
    await run.exit;
    const pids = [...pidsOf(root, 's1'), ...pidsOf(root, 's2')];
    for (const pid of pids) expect(pidAlive(pid)).toBe(true); // orphans, in their own process groups
    const rec = (await lastRun(p.dir, p.home))!;
    expect(rec.status).toBe('failure');
    expect(rec.error).toMatch(/runner exited/);
    await waitFor(() => pids.every((pid) => !pidAlive(pid)), 10_000, 'the orphans to be reaped');
  });
});
