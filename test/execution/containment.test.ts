import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { asset, runAssets, tempDir, useKillGrace, waitFor } from './helpers.js';
import { liveGroups, pidAlive } from '../../src/execution/process-tree.js';
import { cgroupBase, resetCgroupBase } from '../../src/execution/containment/cgroup.js';
import { readProcStat } from '../../src/execution/containment/marks.js';

const ESCAPEES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'escapees.sh');
const NAMES = ['setsid', 'setpgid', 'daemon'] as const;

/** The pids the fixture recorded, once all three are written. */
function pidsIn(dir: string): number[] {
  return NAMES.map((n) => Number(fs.readFileSync(path.join(dir, `${n}.pid`), 'utf8').trim()));
}
const allWritten = (dir: string) => NAMES.every((n) => fs.existsSync(path.join(dir, `${n}.pid`)));

/** The cgroup v2 path of a process (`0::...`). */
function cgroupOf(pid: number): string {
  return (fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::')) ?? '').slice(3);
}

/** Step cgroups of this run still present. */
function leftoverCgroups(runId: string): string[] {
  const base = cgroupBase();
  return base ? fs.readdirSync(base).filter((n) => n.startsWith(`runner-${runId}-`)) : [];
}

const CAN_CGROUP = (() => {
  resetCgroupBase();
  return cgroupBase() !== null;
})();

useKillGrace('300ms');

for (const cgroups of [true, false]) {
  const mode = cgroups ? 'mark and cgroup' : 'mark alone';
  describe.skipIf(cgroups && !CAN_CGROUP)(`containment (${mode})`, () => {
    const runId = `contain-${cgroups ? 'cg' : 'mark'}-${process.pid}`;

    /** Runs the fixture as one step and checks that it escaped its group, then that nothing of it survived. */
    async function runEscapees(fixtureMode: 'ok' | 'fail' | 'hang', over: { timeoutMs?: number; abortWhenStarted?: boolean } = {}) {
      const dir = tempDir('runner-escape-');
      const a = asset('esc', ['sh', ESCAPEES, dir, fixtureMode], over.timeoutMs ? { timeoutMs: over.timeoutMs } : {});
      const ac = new AbortController();
      const t0 = Date.now();
      const running = runAssets([a], { runId, cgroups, signal: ac.signal });
      let duringRun: { pgrps: number[]; cgroups: string[] } | undefined;
      if (fixtureMode === 'hang') {
        await waitFor(() => allWritten(dir), 20_000, 'the escapees');
        const pids = pidsIn(dir);
        duringRun = { pgrps: pids.map((p) => readProcStat(p)!.pgrp), cgroups: pids.map(cgroupOf) };
        if (over.abortWhenStarted) ac.abort('SIGINT');
      }
      const { outcome, events } = await running;
      const elapsed = Date.now() - t0;
      const pids = pidsIn(dir);
      return { outcome, events, pids, elapsed, duringRun };
    }

    function expectNoneSurvived(pids: number[]): void {
      for (const p of pids) expect(pidAlive(p), `pid ${p}`).toBe(false);
      expect(liveGroups()).toEqual([]);
      expect(leftoverCgroups(runId)).toEqual([]);
    }

    it('success: the escaped processes end with the step, which does not wait for the pipes they hold', async () => {
      const r = await runEscapees('ok');
      expect(r.outcome.steps[0]).toMatchObject({ status: 'success' });
      expect(r.events.some((e) => e.type === 'log' && e.line === 'started')).toBe(true);
      expectNoneSurvived(r.pids);
      expect(r.elapsed).toBeLessThan(30_000); // not the escapees' 1000 s
    });

    it('failure: the escaped processes end with the step', async () => {
      const r = await runEscapees('fail');
      expect(r.outcome.steps[0]).toMatchObject({ status: 'failure', exitCode: 3 });
      expectNoneSurvived(r.pids);
    });

    it('timeout: the step and everything it started end, the one ignoring SIGTERM by SIGKILL', async () => {
      const r = await runEscapees('hang', { timeoutMs: 4000 });
      expect(r.outcome.steps[0]!.status).toBe('failure');
      expect(r.outcome.steps[0]!.error).toMatch(/^timed out after 4\.0s/);
      // They had left the step's process group (and, with cgroups, stayed in the step's cgroup).
      const [setsidGroup, setpgidGroup, daemonGroup] = r.duringRun!.pgrps;
      expect(new Set([setsidGroup, setpgidGroup, daemonGroup]).size).toBe(3);
      if (cgroups) for (const c of r.duringRun!.cgroups) expect(c).toMatch(new RegExp(`/runner-${runId}-\\d+-\\d+$`));
      else for (const c of r.duringRun!.cgroups) expect(c).not.toContain('runner-');
      expectNoneSurvived(r.pids);
      expect(r.elapsed).toBeLessThan(4000 + 300 + 15_000);
    });

    it('cancel: the step and everything it started end', async () => {
      const r = await runEscapees('hang', { abortWhenStarted: true });
      expect(r.outcome.status).toBe('canceled');
      expect(r.outcome.steps[0]!.status).toBe('canceled');
      expectNoneSurvived(r.pids);
    });
  });
}
