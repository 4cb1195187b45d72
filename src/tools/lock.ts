/**
 * A lock across processes: a file created exclusively (`wx`) holding the holder's pid and
 * what it does. A lock whose holder is dead is stale and taken over, so a runner killed
 * mid-install blocks nobody. Waiting reports who holds it, once.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a lock file holds. */
export interface LockInfo {
  pid: number;
  /** What the holder does, e.g. `installing openmetadata-ingestion[trino]==1.7.7.4`. */
  what: string;
  since: string;
}

/** A held lock. */
export interface HeldLock {
  file: string;
  release(): void;
}

/** How often a waiter looks again. */
const POLL_MS = 200;
/** A lock file that stays unreadable this long was left by a process that died while writing it. */
const UNREADABLE_STALE_MS = 10_000;

/** Takes the lock at `file`, waiting while a live process holds it; rejects when `signal` aborts. */
export async function acquireLock(file: string, what: string, o: LockOptions = {}): Promise<HeldLock> {
  mkdirSync(path.dirname(file), { recursive: true });
  let told = false;
  for (;;) {
    if (o.signal?.aborted) throw new Error('canceled while waiting for the tools lock');
    const info: LockInfo = { pid: process.pid, what, since: new Date().toISOString() };
    try {
      writeFileSync(file, JSON.stringify(info), { flag: 'wx', mode: 0o644 });
      return { file, release: () => releaseLock(file) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readLock(file);
    if ((holder && !pidAlive(holder.pid)) || (!holder && olderThan(file, UNREADABLE_STALE_MS))) {
      // Stale: its holder died. Removing it races with other waiters; `wx` decides who wins.
      rmSync(file, { force: true });
      continue;
    }
    if (holder && !told) {
      told = true;
      o.onWait?.(holder);
    }
    await sleep(POLL_MS, undefined, { signal: o.signal }).catch(() => undefined);
  }
}

/** The lock file's content (undefined while it is being written or when unreadable). */
export function readLock(file: string): LockInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return typeof v.pid === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the lock file when this process holds it. */
function releaseLock(file: string): void {
  if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
}

function olderThan(file: string, ms: number): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs > ms;
  } catch {
    return false;
  }
}

/** Whether a process with this pid exists (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Options of {@link acquireLock}. */
export interface LockOptions {
  signal?: AbortSignal;
  /** Called once when another live process holds the lock. */
  onWait?: (holder: LockInfo) => void;
}
