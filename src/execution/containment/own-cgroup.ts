/**
 * The runner's own cgroup. Where step cgroups can be made, the `runner` command moves
 * itself into a leaf cgroup of its own (`runner-<pid>`, beside the step cgroups) before
 * its first step starts. Then the runner is the only process that belongs there, and any
 * other process found in it was forked by a child the runner has just started, before that
 * child was moved to its cgroup.
 *
 * That lets a step's program start directly and be moved into its step cgroup by the
 * runner right after the spawn, instead of through a `sh -c` that joins the cgroup and
 * `exec`s the program (one more exec per step, the largest per-step cost containment had):
 * `settle` moves the child, then every process still in the runner's cgroup, into the
 * child's cgroup, until only the runner is left. What the child forked in between (the
 * runner may be descheduled between the spawn and the settle) waits in the runner's
 * cgroup, never outside a cgroup the runner controls. This holds while every process the
 * runner starts is settled synchronously right after its spawn (spawns happen on the main
 * thread, one at a time): a step's
 * program into its step cgroup (step-process.ts), anything else (installers, version
 * probes, `docker kill`) back into the cgroup the runner started in (`outside`).
 *
 * Only the CLI turns this on (`allowOwnCgroup`): a process that uses the runner's modules
 * as a library (the tests) starts processes of its own that would be taken for a step's.
 * Without it, or when the runner cannot move itself, steps start through the `sh -c`
 * wrapper as before. On exit the runner moves back and removes its cgroup; one left by a
 * runner that was killed is emptied and removed by the next reaper (`removeStaleOwnCgroups`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { cgroupBase, cgroupProcs, joinCgroup, removeCgroup } from './cgroup.js';
import { clearCgroups } from './reap.js';

let allowed = false;
/** The runner's own cgroup once entered; null when it could not be (then never tried again). */
let own: string | null | undefined;
/** The cgroup the runner started in (the parent of its own). */
let home: string | undefined;

/** Lets this process move itself into a cgroup of its own at its first step (the CLI entry calls this). */
export function allowOwnCgroup(): void {
  allowed = true;
}

/** The name of a runner's own cgroup under its starting cgroup. */
const ownName = (pid: number): string => `runner-${pid}`;

/**
 * The runner's own cgroup, entered on the first call; undefined when it is not allowed or
 * cannot be made (no step cgroups here, or the move was refused).
 */
export function ownCgroup(): string | undefined {
  if (own !== undefined) return own ?? undefined;
  if (!allowed) return undefined;
  const base = cgroupBase();
  if (!base) return undefined;
  own = null;
  const dir = path.join(base, ownName(process.pid));
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    // A dead runner's with the same pid is as good: what it left in there (a crash between
    // a spawn and its settle) is settled with the first step and ends with it.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  // Writing 0 moves the writer's whole process (every thread).
  if (!joinCgroup(dir, 0)) {
    removeCgroup(dir);
    return undefined;
  }
  home = base;
  own = dir;
  process.once('exit', leaveOwnCgroup);
  return own;
}

/** At exit: back into the cgroup the runner started in, and its own removed. */
function leaveOwnCgroup(): void {
  if (!own || !home) return;
  if (joinCgroup(home, 0)) removeCgroup(own);
  own = undefined;
}

/** How many rounds `settle` makes before it kills what keeps forking inside the runner's cgroup. */
const MAX_ROUNDS = 1000;

/**
 * Moves a just-started child into `dest`, then everything it forked before the move (what
 * is in the runner's cgroup besides the runner) after it. Call it synchronously after the
 * spawn, before anything else is spawned. No `dest` (a process that is not a step's, or a
 * step without a cgroup): back into the cgroup the runner started in. Without an own
 * cgroup it only moves the child into `dest`.
 */
export function settle(pid: number, dest: string | undefined): void {
  const to = dest ?? home;
  if (!to) return;
  joinCgroup(to, pid);
  if (!own) return;
  // A process already moved that is listed again was exiting (the kernel leaves an exiting
  // process where it is, and it can fork no more): it is not waited for.
  const seen = new Set([process.pid, pid]);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const strays = cgroupProcs(own, true).filter((p) => !seen.has(p));
    if (strays.length === 0) return;
    for (const p of strays) {
      seen.add(p);
      joinCgroup(to, p);
    }
  }
  // A fork bomb that outruns the moves: it is the child's, and it ends here.
  for (const p of cgroupProcs(own, true)) {
    if (p === process.pid) continue;
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * `settle` for a process that is not a step's (an installer, a version probe): back into
 * the cgroup the runner started in. Wrap the spawn: `await outside(execa(...))`.
 */
export function outside<T extends { pid?: number | undefined }>(child: T): T {
  if (child.pid !== undefined && own) settle(child.pid, undefined);
  return child;
}

/**
 * Ends what the runners that are gone left in their own cgroups, and removes those. A
 * live runner is always inside its own cgroup (from its first step to its exit), so one
 * whose cgroup no longer holds it is gone; what is still in there was started by it and
 * not yet settled when it died (a crash between a spawn and its settle): a step's process,
 * perhaps with a cleared environment, so ended like one.
 */
export function removeStaleOwnCgroups(): void {
  const base = cgroupBase();
  if (!base) return;
  let names: string[];
  try {
    names = fs.readdirSync(base);
  } catch {
    return;
  }
  for (const n of names) {
    const runner = /^runner-([0-9]+)$/.exec(n)?.[1];
    if (runner === undefined) continue;
    const dir = path.join(base, n);
    // A live runner (this one too) is in its own cgroup.
    if (!cgroupProcs(dir).includes(Number(runner))) clearCgroups([dir]);
  }
}
