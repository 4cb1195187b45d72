import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliEntry, runCli, startCli } from './cli-entry.js';
import { tempDir, waitFor } from './helpers.js';
import { pidAlive } from '../../src/execution/process-tree.js';
import { cgroupBase, resetCgroupBase } from '../../src/execution/containment/cgroup.js';
import { readProcStat } from '../../src/execution/containment/marks.js';

const ESCAPEES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'escapees.sh');
const NAMES = ['setsid', 'setpgid', 'daemon'] as const;

const CAN_CGROUP = (() => {
  resetCgroupBase();
  return cgroupBase() !== null;
})();

/** A project whose one step starts the escapees and hangs; `pids` reads what they recorded. */
function project() {
  const root = tempDir('runner-contain-cli-');
  const dir = path.join(root, 'pipelines');
  const marks = path.join(root, 'pids');
  fs.mkdirSync(dir);
  fs.mkdirSync(marks);
  fs.writeFileSync(path.join(dir, 'p.yaml'), `assets:\n  - key: esc\n    handler: command\n    config: {run: ${JSON.stringify(['sh', ESCAPEES, marks, 'hang'])}}\n`);
  const written = () => NAMES.every((n) => fs.existsSync(path.join(marks, `${n}.pid`)));
  const pids = () => NAMES.map((n) => Number(fs.readFileSync(path.join(marks, `${n}.pid`), 'utf8').trim()));
  return { root, dir, home: path.join(root, 'home'), written, pids };
}

const runnerCgroups = (): string[] => {
  const base = cgroupBase();
  return base ? fs.readdirSync(base).filter((n) => n.startsWith('runner-')) : [];
};

beforeAll(async () => {
  await cliEntry();
}, 60_000);

/** Runners a test started, ended and reaped after it even when an assertion failed. */
const started: Array<{ run: Awaited<ReturnType<typeof startCli>>; dir: string; home: string }> = [];
afterEach(async () => {
  for (const s of started.splice(0)) {
    if (s.run.child.exitCode === null && s.run.child.signalCode === null) {
      s.run.child.kill('SIGKILL');
      await s.run.exit;
      await runCli(['runs', '-p', s.dir], { env: { RUNNER_HOME: s.home } });
    }
  }
}, 60_000);

for (const cgroups of [true, false]) {
  const env = (home: string) => ({ RUNNER_HOME: home, RUNNER_KILL_GRACE: '500ms', ...(cgroups ? {} : { RUNNER_CGROUPS: 'off' }) });
  describe.skipIf(cgroups && !CAN_CGROUP)(`the built CLI (${cgroups ? 'mark and cgroup' : 'mark alone'})`, () => {
    it('Ctrl-C (SIGINT) ends the run and every escaped process; the runner exits 130', async () => {
      const p = project();
      const prior = new Set(runnerCgroups());
      const run = await startCli(['materialize', '-p', p.dir, '--select', '*', '--output', 'plain'], { env: env(p.home) });
      started.push({ run, dir: p.dir, home: p.home });
      await waitFor(p.written, 20_000, 'the escapees');
      const pids = p.pids();
      await waitFor(() => /run (\S+) started/.test(run.stdout()), 10_000, 'the run id');
      const runId = /run (\S+) started/.exec(run.stdout())![1]!;
      const mine = runnerCgroups().filter((c) => !prior.has(c) && c.startsWith(`runner-${runId}-`));
      expect(mine.length).toBe(cgroups ? 1 : 0);
      run.child.kill('SIGINT');
      const { code } = await run.exit;
      expect(code).toBe(130);
      for (const pid of pids) expect(pidAlive(pid), `pid ${pid}`).toBe(false);
      expect(runnerCgroups().filter((c) => mine.includes(c))).toEqual([]);
    }, 60_000);

    for (const ledger of ['kept', 'lost'] as const) {
      it(`a SIGKILLed runner's escaped processes are ended by the next runner (ledger ${ledger})`, async () => {
        const p = project();
        const run = await startCli(['materialize', '-p', p.dir, '--select', '*', '--output', 'plain'], { env: env(p.home) });
        started.push({ run, dir: p.dir, home: p.home });
        await waitFor(p.written, 20_000, 'the escapees');
        const pids = p.pids();
        // In the step's cgroup once the runner settled it (it may start in the runner's own).
        if (cgroups) await waitFor(() => /0::.*\/runner-[0-9a-f-]+-\d+-\d+\n/.test(fs.readFileSync(`/proc/${pids[2]}/cgroup`, 'utf8')), 10_000, 'the daemon in the step cgroup');
        run.child.kill('SIGKILL');
        await run.exit;
        // Nothing ended them: the runner died without a word.
        for (const pid of pids) expect(pidAlive(pid), `pid ${pid}`).toBe(true);
        expect(pids.every((pid) => readProcStat(pid)!.state !== 'Z')).toBe(true);
        if (ledger === 'lost') {
          // As if the runner died before it recorded anything: only the marks (and cgroup names) are left.
          fs.rmSync(path.join(p.home, 'procs'), { recursive: true, force: true });
        }
        const r = await runCli(['runs', '--json', '-p', p.dir], { env: env(p.home) });
        expect(r.code).toBe(0);
        const [reaped] = (JSON.parse(r.stdout) as { runs: Array<{ id: string; status: string; error: string | null }> }).runs;
        expect(reaped).toMatchObject({ status: 'failure', error: 'the runner exited' });
        for (const pid of pids) expect(pidAlive(pid), `pid ${pid}`).toBe(false);
        // The run's step cgroup went too.
        expect(runnerCgroups().filter((c) => c.startsWith(`runner-${reaped!.id}-`))).toEqual([]);
      }, 60_000);
    }
  });
}
