/**
 * The runner's own cgroup (src/execution/containment/own-cgroup.ts), through the built CLI:
 * steps start without the `sh -c` wrapper, and what a step forks at once, with its
 * environment cleared and in a new session, still lands in the step's cgroup and ends
 * with it. The runner's own cgroup exists only while it runs; a dead runner's is emptied
 * and removed by the next runner's reaper.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliEntry, runCli, startCli } from './cli-entry.js';
import { tempDir, waitFor } from './helpers.js';
import { cgroupBase, resetCgroupBase } from '../../src/execution/containment/cgroup.js';

const BASE = (() => {
  resetCgroupBase();
  return cgroupBase();
})();

/** The cgroup v2 path of a process (`0::<path>`), or undefined once it is gone. */
function cgroupOf(pid: number): string | undefined {
  try {
    return /^0::(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Pids of live processes whose argv is exactly `argv`. */
function processesRunning(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'latin1') === want) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

beforeAll(async () => {
  await cliEntry();
}, 60_000);

describe.skipIf(BASE === null)("the runner's own cgroup (built CLI)", () => {
  it('what steps fork at once, environment cleared and in a new session, is in each step cgroup and ends with its step', async () => {
    const root = tempDir('runner-own-cg-');
    const dir = path.join(root, 'pipelines');
    const out = path.join(root, 'out');
    fs.mkdirSync(dir);
    fs.mkdirSync(out);
    // A number no other process uses as its sleep's argument, one per step.
    const seconds = (i: number) => String(900_000 + (process.pid % 1000) * 100 + i);
    const steps = 12;
    const assets = Array.from({ length: steps }, (_, i) => {
      // Forks first, then records where the escapee is once the runner settled it (a busy
      // runner may be a moment late; until then it waits in the runner's own cgroup).
      const settled = `for n in $(seq 100); do grep -q '^0::.*/runner-[0-9]*$' /proc/$!/cgroup || break; sleep 0.05; done`;
      const script = `env -i setsid sleep ${seconds(i)} & echo $! > ${out}/${i}.pid; ${settled}; cat /proc/$!/cgroup > ${out}/${i}.cg`;
      return `  - key: s${i}\n    handler: command\n    config: {run: ${JSON.stringify(['sh', '-c', script])}}\n`;
    });
    fs.writeFileSync(path.join(dir, 'p.yaml'), `assets:\n${assets.join('')}`);
    const home = path.join(root, 'home');
    const run = await startCli(['materialize', '-p', dir, '--select', '*', '--output', 'plain', '--concurrency', String(steps)], { env: { RUNNER_HOME: home } });
    const pid = run.child.pid!;
    // While it runs, the runner is alone in its own cgroup beside the step cgroups.
    await waitFor(() => /▶ started/.test(run.stdout()), 20_000, 'a step to start');
    const own = cgroupOf(pid);
    expect(own).toMatch(new RegExp(`/runner-${pid}$`));
    expect(fs.readFileSync(path.join(BASE!, path.basename(own!), 'cgroup.procs'), 'utf8').trim()).toBe(String(pid));
    const { code } = await run.exit;
    expect(code, run.stdout() + run.stderr()).toBe(0);
    const runId = /run (\S+) started/.exec(run.stdout())![1]!;
    for (let i = 0; i < steps; i++) {
      // Each escapee was in its own step's cgroup, and is gone.
      expect(fs.readFileSync(path.join(out, `${i}.cg`), 'utf8')).toMatch(new RegExp(`^0::.*/runner-${runId}-${pid}-\\d+$`, 'm'));
      expect(processesRunning(['sleep', seconds(i)])).toEqual([]);
    }
    // The runner's own cgroup went with it.
    expect(fs.existsSync(path.join(BASE!, `runner-${pid}`))).toBe(false);
  }, 60_000);

  it("a killed runner's own cgroup is emptied and removed by the next runner; a live runner's is kept", async () => {
    const root = tempDir('runner-own-cg-');
    const dir = path.join(root, 'pipelines');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'p.yaml'), `assets:\n  - key: hang\n    handler: command\n    config: {run: [sleep, '1000']}\n`);
    const home = path.join(root, 'home');
    // As a runner SIGKILLed between a spawn and its settle leaves it (a pid beyond pid_max:
    // never a live runner's), with what the step forked meanwhile, environment cleared.
    const stale = path.join(BASE!, 'runner-99999999');
    const empty = path.join(BASE!, 'runner-99999998');
    fs.mkdirSync(stale, { recursive: true });
    fs.mkdirSync(empty, { recursive: true });
    const left = spawn('sleep', ['1000'], { env: {}, detached: true, stdio: 'ignore' });
    fs.writeFileSync(path.join(stale, 'cgroup.procs'), `${left.pid}\n`);
    const gone = new Promise((resolve) => left.on('exit', resolve));
    const live = await startCli(['materialize', '-p', dir, '--select', '*', '--output', 'plain'], { env: { RUNNER_HOME: path.join(root, 'other-home') } });
    try {
      await waitFor(() => /▶ started/.test(live.stdout()), 20_000, 'the step to start');
      const r = await runCli(['runs', '-p', dir], { env: { RUNNER_HOME: home } });
      expect(r.code, r.stderr).toBe(0);
      expect(fs.existsSync(stale)).toBe(false);
      expect(fs.existsSync(empty)).toBe(false);
      expect(await gone).toBeNull(); // killed (by a signal: no exit code)
      expect(fs.existsSync(path.join(BASE!, `runner-${live.child.pid}`))).toBe(true);
      expect(cgroupOf(live.child.pid!)).toMatch(new RegExp(`/runner-${live.child.pid}$`));
    } finally {
      live.child.kill('SIGINT');
      await live.exit;
      left.kill('SIGKILL');
      for (const d of [stale, empty]) if (fs.existsSync(d)) fs.rmdirSync(d);
    }
    expect(fs.existsSync(path.join(BASE!, `runner-${live.child.pid}`))).toBe(false);
  }, 60_000);
});
