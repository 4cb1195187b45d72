/**
 * What a dead runner's run left alive, found without trusting the run's records alone:
 * the processes in the step cgroups its ledger names and every process carrying the
 * run's mark (also a child the runner started but died before recording). Synchronous:
 * the reaper runs inside `Store.open`.
 */
import { findMarked, livePids } from './marks.js';
import { cgroupPids, killCgroup, removeCgroup } from './cgroup.js';

/** The live processes of a run: in its cgroups, or marked `<run-id>/...`, started at or after `since` (clock ticks). */
export function runProcesses(runId: string, cgroups: readonly string[], since?: number): number[] {
  const found = new Set<number>();
  for (const dir of cgroups) {
    for (const pid of livePids(cgroupPids(dir))) found.add(pid);
  }
  for (const pid of findMarked({ mark: `${runId}/`, prefix: true, since })) found.add(pid);
  return [...found];
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Kills what is left in a dead run's cgroups and removes them; a process that was just
 * killed keeps its cgroup busy a moment, so removal is tried for up to a second.
 */
export function clearCgroups(cgroups: readonly string[]): void {
  for (const dir of cgroups) killCgroup(dir);
  let left = cgroups.filter((dir) => !removeCgroup(dir));
  for (let i = 0; i < 50 && left.length > 0; i++) {
    Atomics.wait(pause, 0, 0, 20);
    left = left.filter((dir) => !removeCgroup(dir));
  }
}
