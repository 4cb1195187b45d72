/**
 * Process groups and the registry of live steps. Every child a handler starts runs in its
 * own process group (execa `detached: true`) and carries its step's mark (see
 * containment/): SIGTERM to all of it, SIGKILL after a grace period. The steps alive in
 * this runner are kept in one registry so a second Ctrl-C can kill them all at once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { MAX_DURATION_MS, parseDuration } from '../util/duration.js';

/** What the registry needs of a step's containment (containment/step.ts). */
export interface Killable {
  /** The leader of the step's main process group. */
  readonly group: number | undefined;
  /** SIGKILLs every process of the step, without waiting. */
  killNow(): void;
}

/** Process groups (their leaders' pids) started by this runner and not yet gone. */
const live = new Set<number>();
/** Steps of this runner with processes that may be alive. */
const steps = new Set<Killable>();

/** Registers a step's containment once its first process started. */
export function registerContainment(k: Killable): void {
  steps.add(k);
}

/** Forgets a step's containment once nothing of it is left. */
export function unregisterContainment(k: Killable): void {
  steps.delete(k);
}

/** Default wait between SIGTERM and SIGKILL; `RUNNER_KILL_GRACE` (a duration) overrides it. */
export const DEFAULT_KILL_GRACE_MS = 5_000;

/** The grace period between SIGTERM and SIGKILL, from `RUNNER_KILL_GRACE` or the default. */
export function killGraceMs(env: Record<string, string | undefined> = process.env): number {
  const v = env.RUNNER_KILL_GRACE;
  const ms = v ? parseDuration(v) : undefined;
  return ms === undefined ? DEFAULT_KILL_GRACE_MS : Math.min(ms, MAX_DURATION_MS);
}

/** Registers a process group started by this runner. */
export function registerGroup(pgid: number): void {
  live.add(pgid);
}

/** Forgets a process group once nothing of it is left. */
export function unregisterGroup(pgid: number): void {
  live.delete(pgid);
}

/** The process groups this runner may still have alive (of registered groups and steps). */
export function liveGroups(): number[] {
  const out = new Set(live);
  for (const k of steps) if (k.group !== undefined) out.add(k.group);
  return [...out];
}

/** Sends a signal to a whole process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether any process of the group is alive. A zombie is not alive: where init does not
 * reap orphans (some containers), a group of zombies still answers `kill(-pgid, 0)`, so on
 * Linux /proc decides.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  return procGroupMembers(pgid).some((p) => p.state !== 'Z');
}

/** Processes of a group per /proc (Linux only): pid and state letter. */
export function procGroupMembers(pgid: number): Array<{ pid: number; state: string }> {
  const out: Array<{ pid: number; state: string }> = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readStat(Number(name));
    if (st && st.pgrp === pgid) out.push({ pid: Number(name), state: st.state });
  }
  return out;
}

/** State letter and process group of a pid from /proc/<pid>/stat, or undefined when gone. */
export function readStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: parse after the last `)`.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/** Whether a single pid is alive (a zombie counts as dead). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (process.platform !== 'linux') return true;
  const st = readStat(pid);
  return st !== undefined && st.state !== 'Z';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until the group is gone or `ms` passed; true when gone. */
async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  let step = 10;
  for (;;) {
    if (!groupAlive(pgid)) return true;
    if (Date.now() >= until) return false;
    await sleep(Math.min(step, Math.max(1, until - Date.now())));
    step = Math.min(step * 2, 100);
  }
}

/**
 * Terminates a whole process group: SIGTERM, then SIGKILL when something of it is still
 * alive after `graceMs`. Resolves once nothing of the group is alive (or, should a process
 * be stuck in the kernel, after a last bounded wait).
 */
export async function terminateGroup(pgid: number, graceMs = killGraceMs()): Promise<void> {
  if (!groupAlive(pgid)) {
    live.delete(pgid);
    return;
  }
  signalGroup(pgid, 'SIGTERM');
  if (!(await waitGone(pgid, graceMs))) {
    signalGroup(pgid, 'SIGKILL');
    await waitGone(pgid, 2_000);
  }
  live.delete(pgid);
}

/** SIGKILLs every group and every step's processes this runner started (a second Ctrl-C): nothing waits. */
export function killAllNow(): void {
  for (const pgid of live) signalGroup(pgid, 'SIGKILL');
  for (const k of steps) k.killNow();
}
