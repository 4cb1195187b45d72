/**
 * At most one run per (schedule, tick): two serve processes on one store, and a serve
 * killed in the middle of a tick's run and started again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../schedule/helpers.js';
import { alive, query, startServe, waitFor, type ServeProc } from './proc.js';

let root: string;
let procs: ServeProc[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const p of procs) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  procs = [];
  for (const d of [root, ...dirs.splice(0)]) fs.rmSync(d, { recursive: true, force: true });
});

function project(schedules: string, command: string): { home: string } {
  root = tempDir('runner-serve-dup-');
  fs.mkdirSync(path.join(root, 'pipelines'));
  fs.writeFileSync(
    path.join(root, 'pipelines', 'main.yaml'),
    `assets:
  - key: demo/a
    handler: command
    config: {run: [sh, -c, ${JSON.stringify(command)}]}
schedules:
${schedules}`,
  );
  return { home: path.join(root, 'home') };
}

describe('runner serve: one run per tick', () => {
  it('two serves on one store start each tick once', async () => {
    const { home } = project(
      `  - name: every
    cron: "* * * * * *"
    select: demo/a
    default_status: running
    overlap: queue
`,
      'echo hi',
    );
    const env = { RUNNER_HOME: home, RUNNER_LOG_LEVEL: 'debug' };
    const [a, b] = await Promise.all([startServe(root, ['-p', 'pipelines'], env), startServe(root, ['-p', 'pipelines'], env)]);
    procs.push(a!, b!);
    await waitFor('several ticks', () => query<{ n: number }>(home, "SELECT COUNT(*) AS n FROM ticks WHERE outcome = 'started'")[0]!.n >= 4, 15_000);
    a!.child.kill('SIGTERM');
    b!.child.kill('SIGTERM');
    expect(await a!.exited).toBe(0);
    expect(await b!.exited).toBe(0);

    const perTick = query<{ tick: string; n: number }>(
      home,
      "SELECT json_extract(trigger, '$.tick') AS tick, COUNT(*) AS n FROM runs GROUP BY tick HAVING n > 1",
    );
    expect(perTick).toEqual([]);
    const started = query<{ run_id: string }>(home, "SELECT run_id FROM ticks WHERE outcome = 'started'");
    const runs = query<{ id: string }>(home, 'SELECT id FROM runs');
    expect(new Set(runs.map((r) => r.id))).toEqual(new Set(started.map((t) => t.run_id)));
    // They really competed: each tick was looked at by both, one found it taken.
    const taken = [...a!.lines, ...b!.lines].filter((l) => l.includes('tick already taken by another process'));
    expect(taken.length).toBeGreaterThan(0);
  });

  it('a serve killed in the middle of a tick and started again does not run that tick twice', async () => {
    const pidDir = tempDir('runner-serve-pid-');
    dirs.push(pidDir);
    const { home } = project(
      `  - name: often
    cron: "*/2 * * * * *"
    select: demo/a
    default_status: running
`,
      // Each run records its pid under its own name, then outlives the test.
      `echo $$ > ${pidDir}/$$.pid; exec sleep 60`,
    );
    const env = { RUNNER_HOME: home, RUNNER_KILL_GRACE: '1s' };
    const first = await startServe(root, ['-p', 'pipelines'], env);
    procs.push(first);
    const tick = await waitFor('the first tick', () => query<{ tick_time: string; run_id: string }>(home, "SELECT * FROM ticks WHERE outcome = 'started'")[0], 15_000);
    const pid = await waitFor('the step to start', () => {
      const f = fs.readdirSync(pidDir)[0];
      return f ? Number(f.replace('.pid', '')) : undefined;
    });
    // Give the store a moment to record the child (it does so right after the spawn): a
    // runner killed between a fork and that record cannot know its child.
    await new Promise((r) => setTimeout(r, 500));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startServe(root, ['-p', 'pipelines', '--grace', '0s'], env);
    procs.push(second);
    // The new process reaps the dead one's run (and its child)...
    await waitFor('the orphaned child to be terminated', () => !alive(pid), 10_000);
    await waitFor('the orphaned run to be marked failed', () => query<{ status: string }>(home, 'SELECT status FROM runs WHERE id = ?', tick.run_id)[0]?.status === 'failure');
    // ...and goes on with later ticks (catch-up runs the latest missed one), never that one again.
    await new Promise((r) => setTimeout(r, 2500));
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const forTick = query<{ id: string }>(home, "SELECT id FROM runs WHERE json_extract(trigger, '$.tick') = ?", tick.tick_time);
    expect(forTick).toEqual([{ id: tick.run_id }]);
    expect(query(home, 'SELECT run_id, outcome FROM ticks WHERE tick_time = ?', tick.tick_time)).toEqual([{ run_id: tick.run_id, outcome: 'started' }]);
    const perTick = query(home, "SELECT json_extract(trigger, '$.tick') AS t, COUNT(*) AS n FROM runs GROUP BY t HAVING n > 1");
    expect(perTick).toEqual([]);
    expect(second.lines.some((l) => l.includes('tick: starting run') && l.includes(tick.run_id))).toBe(false);
    // Nothing of either process survives.
    for (const f of fs.readdirSync(pidDir)) expect(alive(Number(f.replace('.pid', '')))).toBe(false);
  });
});
