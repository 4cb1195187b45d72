import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { Store } from '../../src/storage/store.js';
import { ledgerPath } from '../../src/storage/ledger.js';
import { RUNNER_EXITED } from '../../src/storage/reaper.js';
import { groupAlive, procInfo } from '../../src/storage/proc.js';
import { deadPid, ev, meta, tempDir } from './helpers.js';

const children: ChildProcess[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const c of children.splice(0)) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const s of stores.splice(0)) s.close();
});

/** A child in its own process group: a shell with a background grandchild, both sleeping. */
function spawnGroup(script = 'sleep 300 & sleep 300; wait'): ChildProcess {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  return child;
}

/** Resolves when the child has printed `text`. */
async function printed(child: ChildProcess, text: string): Promise<void> {
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    if (out.includes(text)) return;
  }
}

/** True while the process runs (exists and is not a zombie). */
function running(pid: number): boolean {
  const info = procInfo(pid);
  return info !== undefined && info.state !== 'Z';
}

/**
 * A run left `started` with a step `running` and one `pending`, its child recorded, owned by
 * a process we then declare dead by rewriting the owner (as if the runner was SIGKILLed).
 */
async function orphanedRun(home: string, child: ChildProcess | undefined, owner: { pid?: number; start?: string; machine?: string; heartbeat?: string; pool?: string } = {}) {
  const s = Store.open(home);
  const m = meta(['running/step', 'pending/step', 'done/step']);
  s.createRun(m);
  s.emit(ev('run_started', m.id));
  s.emit(ev('step_started', m.id, { key: 'done/step', attempt: 1 }));
  s.emit(ev('step_succeeded', m.id, { key: 'done/step', attempt: 1 }));
  s.emit(ev('step_started', m.id, { key: 'running/step', attempt: 1 }));
  if (child) s.recordProcess(m.id, 'running/step', child.pid!);
  expect(s.acquirePoolSlot(owner.pool ?? 'cli', 1, m.id, 'running/step')).toBe(true);
  s.flush();
  const pid = owner.pid ?? (await deadPid());
  s.db
    .prepare('UPDATE runs SET owner_pid = ?, owner_start = COALESCE(?, owner_start), owner_machine = COALESCE(?, owner_machine), heartbeat_at = COALESCE(?, heartbeat_at) WHERE id = ?')
    .run(pid, owner.start ?? null, owner.machine ?? null, owner.heartbeat ?? null, m.id);
  s.close();
  return m;
}

describe('the reaper', () => {
  it('marks a run of a dead runner failed and kills its recorded process group', async () => {
    const home = tempDir();
    const child = spawnGroup();
    const exited = once(child, 'exit');
    const m = await orphanedRun(home, child);
    expect(groupAlive(child.pid!)).toBe(true);

    const s = Store.open(home, { killGraceMs: 2000 });
    stores.push(s);
    expect(s.reaped).toEqual([m.id]);
    const run = s.getRun(m.id)!;
    expect(run.status).toBe('failure');
    expect(run.error).toBe(RUNNER_EXITED);
    expect(run.ended_at).not.toBeNull();
    const byKey = Object.fromEntries(run.steps.map((x) => [x.key, x]));
    expect(byKey['running/step']).toMatchObject({ status: 'failure', error: RUNNER_EXITED });
    expect(byKey['pending/step']).toMatchObject({ status: 'canceled', error: RUNNER_EXITED });
    expect(byKey['done/step']).toMatchObject({ status: 'success', error: null });
    expect(s.listEvents(m.id).at(-1)).toMatchObject({ type: 'run_finished', status: 'failure', message: RUNNER_EXITED });

    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect(signal ?? code).toBe('SIGTERM');
    // The whole group went: the background grandchild too. The run's ledger is gone.
    expect(groupAlive(child.pid!)).toBe(false);
    expect(fs.existsSync(ledgerPath(home, m.id))).toBe(false);
    // The dead run's pool slot is free for others.
    const other = meta(['x']);
    s.createRun(other);
    expect(s.acquirePoolSlot('cli', 1, other.id, 'x')).toBe(true);
  });

  it('kills a group that ignores SIGTERM after the grace period', async () => {
    const home = tempDir();
    const child = spawnGroup(`trap '' TERM; echo ready; sleep 300 & sleep 300; wait`);
    const exited = once(child, 'exit');
    await printed(child, 'ready'); // the shell ignores SIGTERM from here on (and so do its children)
    await orphanedRun(home, child);
    stores.push(Store.open(home, { killGraceMs: 300 }));
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect(signal).toBe('SIGKILL');
    expect(groupAlive(child.pid!)).toBe(false);
  });

  it('never kills a recorded pid whose start time differs (a reused pid)', async () => {
    const home = tempDir();
    const child = spawnGroup('sleep 300');
    const m = await orphanedRun(home, child);
    // The pid is alive, but the ledger says it started at another time: it is not our child.
    const file = ledgerPath(home, m.id);
    const recorded = fs.readFileSync(file, 'utf8');
    expect(recorded).toBe(`+ ${child.pid} ${procInfo(child.pid!)!.start} running/step\n`);
    fs.writeFileSync(file, `+ ${child.pid} 1 running/step\n`);

    const s = Store.open(home, { killGraceMs: 200 });
    stores.push(s);
    expect(s.getRun(m.id)!.status).toBe('failure');
    await new Promise((r) => setTimeout(r, 400));
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
    expect(running(child.pid!)).toBe(true);
  });

  it('treats a live owner pid with another start time as dead (the runner pid was reused)', async () => {
    const home = tempDir();
    const m = await orphanedRun(home, undefined, { pid: process.pid, start: '1' });
    const s = Store.open(home);
    stores.push(s);
    expect(s.getRun(m.id)!.status).toBe('failure');
  });

  it('leaves the runs of a live runner alone', () => {
    const home = tempDir();
    const owner = Store.open(home);
    stores.push(owner);
    const m = meta(['a']);
    owner.createRun(m);
    owner.emit(ev('run_started', m.id));
    owner.flush();
    const other = Store.open(home);
    stores.push(other);
    expect(other.reaped).toEqual([]);
    expect(other.getRun(m.id)!.status).toBe('started');
  });

  it('judges a run owned on another machine by its heartbeat and never signals its pids', async () => {
    const home = tempDir();
    const child = spawnGroup('sleep 300');
    const fresh = await orphanedRun(home, undefined, { machine: 'elsewhere|pid:[1]|boot', heartbeat: new Date().toISOString(), pool: 'a' });
    const stale = await orphanedRun(home, child, { pid: child.pid!, machine: 'elsewhere|pid:[1]|boot', heartbeat: '2020-01-01T00:00:00.000Z', pool: 'b' });
    const s = Store.open(home, { killGraceMs: 200 });
    stores.push(s);
    expect(s.reaped).toEqual([stale.id]);
    expect(s.getRun(fresh.id)!.status).toBe('started');
    expect(s.getRun(stale.id)!.status).toBe('failure');
    await new Promise((r) => setTimeout(r, 400));
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
  });

  it('frees pool slots of a dead runner when the pool is full', async () => {
    const home = tempDir();
    const live = Store.open(home);
    stores.push(live);
    const m = meta(['x']);
    live.createRun(m);
    // A run whose runner died after `live` opened (so open's reaper never saw it).
    const dead = await orphanedRun(home, undefined);
    expect(live.getRun(dead.id)!.status).toBe('started');
    expect(live.acquirePoolSlot('cli', 1, m.id, 'x')).toBe(true);
    expect(live.getRun(dead.id)!.status).toBe('failure');
  });
});

describe('the reaper and runs handed over by a stopping serve', () => {
  /** A run whose serve stopped with `running/step` a Job it handed over (and `other/step` still running unless `all`). */
  async function handedOver(home: string, all: boolean) {
    const s = Store.open(home);
    const m = meta(['running/step', 'other/step', 'pending/step']);
    s.createRun(m);
    s.emit(ev('run_started', m.id));
    s.emit(ev('step_started', m.id, { key: 'running/step', attempt: 1 }));
    s.emit(ev('step_started', m.id, { key: 'other/step', attempt: 1 }));
    if (all) s.emit(ev('step_canceled', m.id, { key: 'other/step', attempt: 1 }));
    expect(s.acquirePoolSlot('cli', 1, m.id, 'running/step')).toBe(true);
    s.handOver(m.id, [{ key: 'running/step', status: 'running', metadata: { kubernetes_job: 'data/r-running-step-1-abc' } }]);
    s.db.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(await deadPid(), m.id);
    s.close();
    return m;
  }

  it('leaves it for the next serve, which adopts it; a crash after that is reaped as any', async () => {
    const home = tempDir();
    const m = await handedOver(home, true);
    const s = Store.open(home);
    stores.push(s);
    expect(s.reaped).toEqual([]);
    expect(s.getRun(m.id)!.status).toBe('started');
    expect(s.handedOverRuns()).toEqual([{ id: m.id, env: m.env }]);
    // Its Job still holds the pool slot.
    expect(s.acquirePoolSlot('cli', 1, 'another-run', 'x')).toBe(false);
    expect(s.adoptRun(m.id)).toEqual([{ key: 'running/step', job: 'data/r-running-step-1-abc' }]);
    expect(s.adoptRun(m.id)).toBeUndefined(); // taken once
    expect(s.handedOverRuns()).toEqual([]);
    // The adopting serve dies (SIGKILL): its run is reaped as today.
    s.db.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(await deadPid(), m.id);
    s.close();
    const t = Store.open(home);
    stores.push(t);
    expect(t.reaped).toEqual([m.id]);
    expect(t.getRun(m.id)!.status).toBe('failure');
  });

  it('reaps it when a running step was not handed over', async () => {
    const home = tempDir();
    const m = await handedOver(home, false);
    const s = Store.open(home);
    stores.push(s);
    expect(s.reaped).toEqual([m.id]);
    expect(s.getRun(m.id)!.error).toBe(RUNNER_EXITED);
  });
});
