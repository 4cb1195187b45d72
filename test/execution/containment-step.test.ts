import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { StepContainment } from '../../src/execution/containment/step.js';
import { closeRunCgroups } from '../../src/execution/containment/cgroup-pool.js';
import { findMarked, readProcStat } from '../../src/execution/containment/marks.js';
import { killAllNow, liveGroups, pidAlive } from '../../src/execution/process-tree.js';
import { runStepProcess } from '../../src/execution/step-process.js';
import { waitFor } from './helpers.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** Runs `sh -c script` as a process of the step; resolves with its result and the lines it printed. */
function run(contain: StepContainment, script: string, signal = new AbortController().signal) {
  const lines: string[] = [];
  const done = runStepProcess('sh', ['-c', script], { contain, signal, env, killGraceMs: 200, pipeGraceMs: 50, onLine: (l) => lines.push(l) });
  return { lines, done };
}

describe('StepContainment', () => {
  for (const cgroups of [false, true]) {
    it(`a second process of the same step is contained and registered too (cgroups ${cgroups})`, async () => {
      const contain = new StepContainment({ runId: `two-${process.pid}`, key: 'k', attempt: 1, cgroups });
      const first = run(contain, 'echo one');
      expect((await first.done).exitCode).toBe(0);
      expect(liveGroups()).toEqual([]);

      const second = run(contain, 'echo up; exec sleep 1000');
      await waitFor(() => second.lines.includes('up'), 10_000, 'the second process');
      const r = await (async () => {
        // Registered: the runner's "kill everything now" reaches it.
        expect(liveGroups().length).toBe(1);
        killAllNow();
        return second.done;
      })();
      expect(r.signal).toBe('SIGKILL');
      expect(liveGroups()).toEqual([]);
      closeRunCgroups(`two-${process.pid}`); // as the run's end does: no cgroup is left behind
    });
  }
});

describe('findMarked', () => {
  it('a process-group match is only one started since the step (a reused group id is not the step)', async () => {
    const child = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    try {
      const pid = child.pid!;
      await waitFor(() => readProcStat(pid)?.pgrp === pid, 5_000, 'the group');
      const start = readProcStat(pid)!.start;
      expect(findMarked({ mark: 'nobody', pgrp: pid, since: start })).toEqual([pid]);
      expect(findMarked({ mark: 'nobody', pgrp: pid, since: start + 1 })).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
    await waitFor(() => !pidAlive(child.pid!), 5_000, 'the sleep to end');
  });
});

describe('StepContainment.release', () => {
  it('does not wait for a busy cgroup to empty (the run end removes it)', async () => {
    vi.useFakeTimers();
    try {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-cg-'));
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), `${process.pid}\n`); // still "busy"
      const contain = new StepContainment({ runId: `busy-${process.pid}`, key: 'k', attempt: 1, cgroups: false });
      contain.cgroup = dir;
      let released = false;
      void contain.release().then(() => (released = true));
      for (let i = 0; i < 10; i++) await Promise.resolve();
      expect(released).toBe(true); // no timer had to fire
      expect(contain.cgroup).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('cancelling many concurrent steps', () => {
  it('ends all 32, each with a child that left its group, and nothing survives', async () => {
    const ac = new AbortController();
    const steps = Array.from({ length: 32 }, (_, i) => {
      const contain = new StepContainment({ runId: `many-${process.pid}`, key: `s${i}`, attempt: 1, cgroups: false });
      return run(contain, 'setsid sleep 1000 & echo "esc $!"; echo up; exec sleep 1000', ac.signal);
    });
    await waitFor(() => steps.every((s) => s.lines.includes('up')), 60_000, 'all 32 steps');
    const escaped = steps.map((s) => Number(s.lines.find((l) => l.startsWith('esc '))!.slice(4)));
    for (const p of escaped) expect(pidAlive(p)).toBe(true);
    ac.abort();
    const results = await Promise.all(steps.map((s) => s.done));
    for (const r of results) expect(r.aborted).toBe(true);
    for (const p of escaped) expect(pidAlive(p), `pid ${p}`).toBe(false);
    expect(liveGroups()).toEqual([]);
  }, 90_000);
});
