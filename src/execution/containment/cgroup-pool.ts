/**
 * Step cgroups kept for reuse within a run. Making and removing a cgroup costs the kernel
 * an RCU grace period (about 10-20 ms on a busy machine, with the event loop blocked),
 * more than the rest of a short step; an empty cgroup of a finished step is as good as a
 * new one. So a run makes about as many cgroups as it runs steps at once, hands an empty
 * one to the next step, and removes them all when it ends. Every cgroup is in the run's
 * ledger from before it is made until it is removed.
 */
import path from 'node:path';
import type { ProcessRecorder } from '../pools.js';
import { cgroupBase, cgroupPids, createCgroup, removeCgroup } from './cgroup.js';

/** Empty cgroups of each run, ready for its next step. */
const idle = new Map<string, string[]>();
/** Every cgroup made for each run (idle, in use, or left busy). */
const made = new Map<string, Set<string>>();

let serial = 0;

/** A cgroup for a step of `runId`: an idle one of the run, else a new one; undefined when none can be made. */
export function takeCgroup(runId: string, key: string, recorder?: ProcessRecorder): string | undefined {
  const ready = idle.get(runId)?.pop();
  if (ready) return ready;
  const root = cgroupBase();
  if (!root) return undefined;
  const dir = path.join(root, `runner-${runId}-${process.pid}-${++serial}`);
  recorder?.recordCgroup?.(runId, key, dir);
  if (!createCgroup(dir)) {
    recorder?.forgetCgroup?.(runId, key, dir);
    return undefined;
  }
  let set = made.get(runId);
  if (!set) made.set(runId, (set = new Set()));
  set.add(dir);
  return dir;
}

/**
 * Gives a step's cgroup back for the next step; false (kept out of the pool) while a
 * process is still in it. `knownEmpty`: the caller has just seen it empty.
 */
export function giveBackCgroup(runId: string, dir: string, knownEmpty = false): boolean {
  if (!knownEmpty && cgroupPids(dir).length > 0) return false;
  let list = idle.get(runId);
  if (!list) idle.set(runId, (list = []));
  list.push(dir);
  return true;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Removes every cgroup of a run that ended. One whose last process is still dying is
 * tried for up to a second; one still busy then stays in the ledger (and the reaper's
 * sweep removes it once it is empty).
 */
export function closeRunCgroups(runId: string, recorder?: ProcessRecorder): void {
  idle.delete(runId);
  let left = [...(made.get(runId) ?? [])];
  made.delete(runId);
  for (let i = 0; left.length > 0; i++) {
    left = left.filter((dir) => {
      if (!removeCgroup(dir)) return true;
      recorder?.forgetCgroup?.(runId, '', dir);
      return false;
    });
    if (left.length === 0 || i >= 50) break;
    Atomics.wait(pause, 0, 0, 20);
  }
}
