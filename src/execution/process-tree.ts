/**
 * Process groups and the registry of live steps. Every child a handler starts runs in its
 * own process group (execa `detached: true`) and carries its step's mark (see
 * containment/): SIGTERM to all of it, SIGKILL after a grace period. The steps alive in
 * this runner are kept in one registry so a second Ctrl-C can kill them all at once.
 */
import { readProcStat } from '../storage/proc.js';
import { MAX_DURATION_MS, parseDuration } from '../util/duration.js';

/** Default wait between SIGTERM and SIGKILL; `RUNNER_KILL_GRACE` (a duration) overrides it. */
export const DEFAULT_KILL_GRACE_MS = 5_000;

/** The grace period between SIGTERM and SIGKILL, from `RUNNER_KILL_GRACE` or the default. */
export function killGraceMs(env: Record<string, string | undefined> = process.env): number {
  const v = env.RUNNER_KILL_GRACE;
  const ms = v ? parseDuration(v) : undefined;
  return ms === undefined ? DEFAULT_KILL_GRACE_MS : Math.min(ms, MAX_DURATION_MS);
}

/** What the registry needs of a step's containment (containment/step.ts). */
export interface Killable {
  /** The leader of the step's main process group. */
  readonly group: number | undefined;
  /** SIGKILLs every process of the step, without waiting. */
  killNow(): void;
}

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

/** The process groups (their leaders' pids) of the steps this runner may still have alive. */
export function liveGroups(): number[] {
  const out = new Set<number>();
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

/** Whether a single pid is alive (a zombie counts as dead). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (process.platform !== 'linux') return true;
  const st = readProcStat(pid);
  return st !== undefined && st.state !== 'Z';
}

/** SIGKILLs the processes of every step this runner started (a second Ctrl-C): nothing waits. */
export function killAllNow(): void {
  for (const k of steps) k.killNow();
}

/**
 * Ends a process group that is not a step's (an installer's pip, say): SIGTERM, SIGKILL
 * after `graceMs`, then a short wait until the group is gone.
 */
export async function terminateGroup(pgid: number, graceMs = killGraceMs()): Promise<void> {
  const gone = async (ms: number) => {
    const until = Date.now() + ms;
    while (signalGroup(pgid, 0)) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  };
  if (!signalGroup(pgid, 'SIGTERM')) return;
  if (!(await gone(graceMs))) {
    signalGroup(pgid, 'SIGKILL');
    await gone(2_000);
  }
}
