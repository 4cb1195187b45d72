/**
 * A lock across processes: a file created exclusively (`wx`) holding the holder's pid, its
 * start time, the machine (host, pid namespace, boot) and what it does. A lock whose holder
 * is dead is stale and taken over, so a runner killed mid-install blocks nobody: dead means
 * no such pid, a pid that started at another time (reused), or our own pid while this
 * process does not hold it (a restarted pod's runner is PID 1 again). A holder on another
 * machine cannot be checked: the wait is capped. Waiting reports who holds it, once.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { machineId, processStartTime } from '../storage/proc.js';

/** What a lock file holds. */
export interface LockInfo {
  pid: number;
  /** What the holder does, e.g. `installing openmetadata-ingestion[trino]==1.7.7.4`. */
  what: string;
  since: string;
  /** storage/proc.ts machineId of the holder: its pid means something only where this is equal. */
  machine?: string;
  /** The holder's start time (storage/proc.ts processStartTime), null when unknown. */
  start?: string | null;
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
/** The longest wait for a holder (an install takes minutes). */
const MAX_WAIT_MS = 30 * 60_000;
/** Lock files this process holds now. */
const heldHere = new Set<string>();

/** Takes the lock at `file`, waiting while a live process holds it; rejects when `signal` aborts. */
export async function acquireLock(file: string, what: string, o: LockOptions = {}): Promise<HeldLock> {
  mkdirSync(path.dirname(file), { recursive: true });
  let told = false;
  const maxWait = o.maxWaitMs ?? MAX_WAIT_MS;
  const began = Date.now();
  for (;;) {
    if (o.signal?.aborted) throw new Error('canceled while waiting for the tools lock');
    const info: LockInfo = { pid: process.pid, what, since: new Date().toISOString(), machine: machineId(), start: processStartTime(process.pid) };
    try {
      writeFileSync(file, JSON.stringify(info), { flag: 'wx', mode: 0o644 });
      heldHere.add(file);
      return { file, release: () => releaseLock(file) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readLock(file);
    if ((holder && holderGone(file, holder)) || (!holder && olderThan(file, UNREADABLE_STALE_MS))) {
      // Stale: its holder died. Removing it races with other waiters; `wx` decides who wins.
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() - began >= maxWait) {
      const who = holder ? `process ${holder.pid} (${holder.what}, since ${holder.since})` : 'an unknown process';
      throw new Error(`waited ${Math.round(maxWait / 60_000)} min for the tools lock ${file}, held by ${who}; if that process is gone, remove the file`);
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
  if (!heldHere.delete(file)) return;
  if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
}

/** Whether the lock's holder is known to be dead (see the module comment). */
function holderGone(file: string, h: LockInfo): boolean {
  if (h.machine !== undefined && h.machine !== machineId()) return false;
  if (h.pid === process.pid) return !heldHere.has(file);
  if (!pidAlive(h.pid)) return true;
  if (h.start == null) return false;
  const now = processStartTime(h.pid);
  return now !== null && now !== h.start;
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
  /** The longest wait (default 30 min): then it rejects naming the file and its holder. */
  maxWaitMs?: number;
}
