import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acquireLock, readLock, type LockInfo } from '../../src/tools/lock.js';
import { bundle } from '../support/bundle.js';
import { machineId, processStartTime } from '../../src/storage/proc.js';

let dir: string;
let holder: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'runner-lock-'));
  holder = await bundle('test/tools/lock-holder.ts');
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

/** A process that exists until killed. */
function sleeper(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
}

describe('the tools lock', () => {
  it('lets one process at a time hold it: three processes never overlap', async () => {
    const file = path.join(dir, 'three', 'install.lock');
    const log = path.join(dir, 'three.log');
    const children = [0, 1, 2].map(() => spawn(process.execPath, [holder, file, log, '300'], { stdio: 'inherit' }));
    const codes = await Promise.all(children.map(exited));
    expect(codes).toEqual([0, 0, 0]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(6);
    // Strictly start A, end A, start B, end B, ...: nobody started while another held it.
    for (let i = 0; i < lines.length; i += 2) {
      const pid = lines[i]!.replace('start ', '');
      expect(lines[i]).toMatch(/^start \d+$/);
      expect(lines[i + 1]).toBe(`end ${pid}`);
    }
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(3);
    expect(existsSync(file)).toBe(false);
  }, 60_000);

  it('takes over a lock whose holder is dead, without waiting', async () => {
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await exited(gone);
    const file = path.join(dir, 'stale.lock');
    writeFileSync(file, JSON.stringify({ pid: gone.pid, what: 'installing (killed)', since: '2026-01-01T00:00:00Z' }));
    const waited: LockInfo[] = [];
    const lock = await acquireLock(file, 'after a crash', { onWait: (h) => waited.push(h) });
    expect(waited).toEqual([]);
    expect(readLock(file)).toMatchObject({ pid: process.pid, what: 'after a crash' });
    lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it('waits while a live process holds it, says who, and goes on once that process is gone', async () => {
    const live = sleeper();
    try {
      const file = path.join(dir, 'live.lock');
      writeFileSync(file, JSON.stringify({ pid: live.pid, what: 'installing openmetadata-ingestion==1.7.7.4', since: '2026-01-01T00:00:00Z' }));
      const waited: LockInfo[] = [];
      let got = false;
      const p = acquireLock(file, 'second', { onWait: (h) => waited.push(h) }).then((l) => {
        got = true;
        return l;
      });
      await new Promise((r) => setTimeout(r, 600));
      expect(got).toBe(false);
      expect(waited).toEqual([{ pid: live.pid, what: 'installing openmetadata-ingestion==1.7.7.4', since: '2026-01-01T00:00:00Z' }]);
      live.kill('SIGKILL');
      await exited(live);
      const lock = await p;
      expect(readLock(file)?.pid).toBe(process.pid);
      lock.release();
    } finally {
      live.kill('SIGKILL');
    }
  });

  it('stops waiting when canceled', async () => {
    const live = sleeper();
    try {
      const file = path.join(dir, 'cancel.lock');
      writeFileSync(file, JSON.stringify({ pid: live.pid, what: 'x', since: 'y' }));
      const ac = new AbortController();
      const p = acquireLock(file, 'canceled', { signal: ac.signal });
      setTimeout(() => ac.abort(), 300);
      await expect(p).rejects.toThrow('canceled while waiting for the tools lock');
      expect(readLock(file)?.pid).toBe(live.pid);
    } finally {
      live.kill('SIGKILL');
    }
  });

  it('takes over a lock left by a runner with our own pid (a restarted pod\'s PID 1), but waits on one this process holds', async () => {
    const file = path.join(dir, 'self.lock');
    writeFileSync(file, JSON.stringify({ pid: process.pid, what: 'installing before the OOM kill', since: 'y', machine: machineId(), start: 'an earlier start' }));
    const held = await acquireLock(file, 'after restart', { maxWaitMs: 5_000 });
    expect(readLock(file)).toMatchObject({ pid: process.pid, what: 'after restart', machine: machineId(), start: processStartTime(process.pid) });
    // Held by this process now: a second acquire in it waits (one install at a time).
    await expect(acquireLock(file, 'second', { maxWaitMs: 400 })).rejects.toThrow(`waited 0 min for the tools lock ${file}, held by process ${process.pid} (after restart`);
    held.release();
    expect(existsSync(file)).toBe(false);
  });

  it('takes over a lock whose pid lives but started at another time (a reused pid)', async () => {
    const live = sleeper();
    try {
      const file = path.join(dir, 'reused.lock');
      writeFileSync(file, JSON.stringify({ pid: live.pid, what: 'x', since: 'y', machine: machineId(), start: 'not its start time' }));
      const held = await acquireLock(file, 'mine', { maxWaitMs: 5_000 });
      expect(readLock(file)?.pid).toBe(process.pid);
      held.release();
    } finally {
      live.kill('SIGKILL');
    }
  });

  it('waits at most maxWaitMs for a live holder, then names the lock file and the holder', async () => {
    const live = sleeper();
    try {
      const file = path.join(dir, 'capped.lock');
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(file, JSON.stringify({ pid: live.pid, what: 'installing x', since: 'then', machine: machineId(), start: processStartTime(live.pid!) }));
      await expect(acquireLock(file, 'mine', { maxWaitMs: 300 })).rejects.toThrow(`for the tools lock ${file}, held by process ${live.pid} (installing x, since then); if that process is gone, remove the file`);
    } finally {
      live.kill('SIGKILL');
    }
  });
});
