/**
 * What the reaper needs to know about processes, without ever trusting a bare pid: a
 * process is identified by its pid AND its start time (field 22 of /proc/<pid>/stat on
 * Linux, `ps -o lstart=` elsewhere), so a pid the kernel handed to someone else after our
 * process died never matches. Everything here is synchronous (the reaper runs inside
 * `Store.open`).
 */
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

const LINUX = process.platform === 'linux' && fs.existsSync('/proc/self/stat');

const statBuf = Buffer.alloc(4096);

/** One process as /proc/<pid>/stat describes it (Linux). */
export interface ProcStat {
  pid: number;
  /** One-letter state: R, S, D, Z (zombie), T, ... */
  state: string;
  pgrp: number;
  /** Start time in clock ticks since boot. */
  start: number;
}

/**
 * /proc/<pid>/stat parsed, or undefined when the process is gone (Linux). Reads into a
 * reused buffer: the step-end scan (execution/containment) calls this once per candidate pid.
 */
export function readProcStat(pid: number): ProcStat | undefined {
  let fd: number;
  try {
    fd = fs.openSync(`/proc/${pid}/stat`, 'r');
  } catch {
    return undefined;
  }
  let text: string;
  try {
    const n = fs.readSync(fd, statBuf, 0, statBuf.length, 0);
    text = statBuf.toString('latin1', 0, n);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or ')'.
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const start = Number(rest[19]);
  if (state === undefined || !Number.isFinite(start)) return undefined;
  return { pid, state, pgrp: Number(rest[2]), start };
}

/** What /proc/<pid>/stat says about one process. */
export interface ProcInfo {
  /** One-letter state: R, S, D, Z (zombie), T, ... */
  state: string;
  /** Process group id. */
  pgrp: number;
  /** Start time, as an opaque string (clock ticks since boot on Linux). */
  start: string;
}

/** Reads /proc/<pid>/stat (Linux) or asks `ps`; undefined when the process does not exist. */
export function procInfo(pid: number): ProcInfo | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (LINUX) {
    const st = readProcStat(pid);
    return st && { state: st.state, pgrp: st.pgrp, start: String(st.start) };
  }
  try {
    const out = execFileSync('ps', ['-o', 'stat=,pgid=,lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const m = /^(\S+)\s+(\d+)\s+(.+)$/.exec(out);
    if (!m) return undefined;
    return { state: m[1]!.charAt(0), pgrp: Number(m[2]), start: m[3]!.trim() };
  } catch {
    return undefined;
  }
}

/** The start time of a process, or null when it does not exist (or cannot be read). */
export function processStartTime(pid: number): string | null {
  return procInfo(pid)?.start ?? null;
}

/** True when a process with this pid exists and is not a zombie (a zombie runner is a dead one). */
export function isRunning(pid: number): boolean {
  const info = procInfo(pid);
  if (info) return info.state !== 'Z';
  // Unreadable (e.g. /proc mounted with hidepid): fall back to signal 0.
  return signalZero(pid);
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let machine: string | undefined;

/**
 * Identifies the pid namespace this process lives in: host name, pid namespace and boot
 * id. Two runners see each other's pids only when these are equal; a run owned by a
 * runner elsewhere (another container on a shared volume) is judged by its heartbeat.
 */
export function machineId(): string {
  if (machine !== undefined) return machine;
  let ns = '';
  let boot = '';
  try {
    ns = fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    /* not Linux, or no access */
  }
  try {
    boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    /* not Linux */
  }
  machine = `${os.hostname()}|${ns}|${boot}`;
  return machine;
}

/** True while any live (non-zombie) process belongs to process group `pgid`. */
export function groupAlive(pgid: number): boolean {
  if (LINUX) {
    let entries: string[];
    try {
      entries = fs.readdirSync('/proc');
    } catch {
      return signalZero(-pgid);
    }
    for (const name of entries) {
      if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
      const info = procInfo(Number(name));
      if (info && info.pgrp === pgid && info.state !== 'Z') return true;
    }
    return false;
  }
  return signalZero(-pgid);
}

/** A process to terminate: a group (by its verified leader) or, when it leads no group, the process alone. */
export interface KillTarget {
  pid: number;
  group: boolean;
}

function signal(t: KillTarget, sig: NodeJS.Signals): void {
  try {
    process.kill(t.group ? -t.pid : t.pid, sig);
  } catch {
    /* gone already, or not ours to signal */
  }
}

function targetAlive(t: KillTarget): boolean {
  return t.group ? groupAlive(t.pid) : isRunning(t.pid);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * Terminates processes (whole groups where they lead one): SIGTERM, then SIGKILL to those
 * still alive after `graceMs`. The caller has verified each pid and start time; this only
 * signals. Synchronous: the reaper runs inside `Store.open`.
 */
export function terminate(targets: KillTarget[], graceMs: number): void {
  if (targets.length === 0) return;
  for (const t of targets) signal(t, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  const alive = waitGone(targets, deadline);
  if (alive.length === 0) return;
  for (const t of alive) signal(t, 'SIGKILL');
  // SIGKILL cannot be caught, but dying takes a moment: return once they are gone.
  // (A process in uninterruptible sleep dies when it wakes; nothing more can be done.)
  waitGone(alive, Date.now() + 2000);
}

function waitGone(targets: KillTarget[], deadline: number): KillTarget[] {
  let alive = targets.filter(targetAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    sleepSync(25);
    alive = alive.filter(targetAlive);
  }
  return alive;
}
