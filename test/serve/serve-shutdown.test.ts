/**
 * SIGTERM while a run outlives the grace period: the run ends canceled, nothing survives,
 * exit 0. And a schedule's run canceled from the web UI's API ends the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../schedule/helpers.js';
import { alive, query, startServe, waitFor, type ServeProc } from './proc.js';

let root: string;
let serve: ServeProc | undefined;

afterEach(async () => {
  if (serve && serve.child.exitCode === null) {
    serve.child.kill('SIGKILL');
    await serve.exited;
  }
  fs.rmSync(root, { recursive: true, force: true });
});

/** A project whose schedule starts a 60 s step every second (one at a time); the step writes its pid to `pidFile`. */
function slowProject(pidFile: string): void {
  fs.mkdirSync(path.join(root, 'pipelines'));
  fs.writeFileSync(
    path.join(root, 'pipelines', 'main.yaml'),
    `assets:
  - key: slow/step
    handler: command
    config: {run: [sh, -c, "echo $$ > ${pidFile}; exec sleep 60"]}
schedules:
  - name: slow
    cron: "* * * * * *"
    select: slow/step
    default_status: running
`,
  );
}

const pidIn = (pidFile: string) => () => {
  const text = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : '';
  return text ? Number(text) : undefined;
};

/**
 * Starts serve (`args`, `env`) on a fresh slowProject under a new temp root (for afterEach to
 * clean up) and waits until the scheduled step has started; returns serve, the store's home and the step's pid.
 */
async function serveWithSlowStep(prefix: string, args: string[], env: Record<string, string>): Promise<{ serve: ServeProc; home: string; pid: number }> {
  root = tempDir(prefix);
  const home = path.join(root, 'home');
  const pidFile = path.join(root, 'child.pid');
  slowProject(pidFile);
  const proc = await startServe(root, args, { RUNNER_HOME: home, ...env });
  serve = proc; // for afterEach, even if the step never starts
  const pid = await waitFor('the step to start', pidIn(pidFile));
  return { serve: proc, home, pid };
}

describe('runner serve: canceling a scheduled run from the web UI', () => {
  it('ends the run canceled and its processes with it (not only runs the UI started)', async () => {
    const s = await serveWithSlowStep('runner-serve-cancel-', ['-p', 'pipelines'], { RUNNER_KILL_GRACE: '1s', RUNNER_UI_TOKEN: 'scheduled-cancel-token' });
    serve = s.serve;
    const { home, pid } = s;
    const [run] = query<{ id: string }>(home, 'SELECT id FROM runs');
    const cancel = () => fetch(`${serve!.url}/api/runs/${run!.id}/cancel`, { method: 'POST', headers: { authorization: 'Bearer scheduled-cancel-token' } });
    expect((await cancel()).status).toBe(202);
    await waitFor('the run to end', () => query<{ status: string }>(home, 'SELECT status FROM runs WHERE id = ?', run!.id)[0]!.status === 'canceled' || undefined);
    expect(alive(pid)).toBe(false);
    expect(query<{ status: string }>(home, 'SELECT status FROM steps WHERE run_id = ?', run!.id).map((s) => s.status)).toEqual(['canceled']);
    expect((await cancel()).status).toBe(409);
  });
});

describe('runner serve shutdown', () => {
  it('cancels a run that outlives the grace period, terminates its processes, and exits 0', async () => {
    const s = await serveWithSlowStep('runner-serve-term-', ['-p', 'pipelines', '--grace', '1s'], { RUNNER_KILL_GRACE: '1s' });
    serve = s.serve;
    const { home, pid } = s;
    expect(alive(pid)).toBe(true);

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(alive(pid)).toBe(false);
    const runs = query<{ id: string; status: string }>(home, 'SELECT id, status FROM runs');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe('canceled');
    const steps = query<{ status: string }>(home, 'SELECT status FROM steps WHERE run_id = ?', runs[0]!.id);
    expect(steps.map((s) => s.status)).toEqual(['canceled']);
    const log = serve.lines.join('\n');
    expect(log).toContain('grace period over: canceling run');
    expect(log).toContain('runs at shutdown: 0 finished, 1 canceled');
    // While it waited, later ticks were skipped, never started.
    const started = query<{ n: number }>(home, "SELECT COUNT(*) AS n FROM ticks WHERE outcome = 'started'")[0]!.n;
    expect(started).toBe(1);
  });
});
