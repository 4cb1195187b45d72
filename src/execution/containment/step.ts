/**
 * One attempt's containment: the mark its processes carry, its cgroup (where one can be
 * made), its main process's group, and ending all of them. A step's processes are the
 * union of the three, so a process found by any one of them ends with the step: one that
 * left the group (`setsid`, `setpgid`, a double fork) is still marked and still in the
 * cgroup. See docs/architecture.md, "Process containment", for what cannot be caught.
 */
import type { ProcessRecorder } from '../pools.js';
import { registerContainment, signalGroup, unregisterContainment } from '../process-tree.js';
import { CAN_SCAN, MARK_VAR, findMarked, livePids, readProcStat, stepMark } from './marks.js';
import { cgroupPids, killCgroup } from './cgroup.js';
import { settle } from './own-cgroup.js';
import { giveBackCgroup, takeCgroup } from './cgroup-pool.js';
import { scanMarked } from './scanner.js';

/**
 * How long after its main process started a step's processes are looked for among the
 * pids handed out since (marks.ts, `MarkQuery.after`) rather than in all of /proc. Pids
 * are reused cyclically; within this time no system hands out a whole cycle of them
 * (32,768 at the smallest `pid_max`), so nothing newer can hide below the main one.
 */
const PID_WINDOW_MS = 5_000;

/** After SIGKILL, how long to wait for the processes to be gone (they cannot refuse; a process in the kernel may take a moment). */
const KILL_WAIT_MS = 500;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The processes of one attempt of a step, and the means to end them all. */
export class StepContainment {
  /** The value of the step's mark (`<run-id>/<attempt>/<key>`). */
  readonly mark: string;
  /** Variables every process of the step gets, after everything else (they cannot be overridden). */
  readonly env: Readonly<Record<string, string>>;
  /** The step's cgroup directory, once made. */
  cgroup: string | undefined;
  private leader: number | undefined;
  private since: number | undefined;
  /** The leader's start time (clock ticks), to tell it from a later process given its pid. */
  private leaderStart: number | undefined;
  /** When the leader was adopted (ms since the epoch). */
  private adoptedAt = 0;
  private readonly pids: number[] = [];
  /** The last terminate found nothing left (an empty cgroup stays empty: nothing is left to fork into it). */
  private emptySeen = false;
  private prepared = false;

  constructor(private readonly o: ContainmentOptions) {
    this.mark = stepMark(o.runId, o.attempt, o.key);
    this.env = { [MARK_VAR]: this.mark };
  }

  /** Makes the step's cgroup before its first process starts (recorded first, so a dead runner's cgroup is found). */
  prepare(): void {
    if (this.prepared) return;
    this.prepared = true;
    if (this.o.cgroups !== false) this.cgroup = takeCgroup(this.o.runId, this.o.key, this.o.recorder);
  }

  /**
   * Takes a started process in: into the cgroup with what it forked meanwhile (unless it
   * joined it itself before it ran, `joined`; see own-cgroup.ts), the runner's registry and
   * the run's ledger. Called synchronously after the spawn.
   */
  adopt(pid: number, joined = false): void {
    if (!joined) settle(pid, this.cgroup);
    const start = readProcStat(pid)?.start;
    if (this.leader === undefined) {
      this.leader = pid;
      this.adoptedAt = Date.now();
      // Marked processes start after the main one (or at least after this runner).
      this.leaderStart = start;
      this.since = start ?? readProcStat(process.pid)?.start;
      registerContainment(this);
    }
    this.pids.push(pid);
    this.o.recorder?.recordProcess(this.o.runId, this.o.key, pid, start === undefined ? undefined : String(start));
  }

  /** The leader of the main process's group (its pid), if a process was adopted. */
  get group(): number | undefined {
    return this.leader;
  }

  /** The live processes of the step's cgroup (none without one). */
  private inCgroup(): number[] {
    if (!this.cgroup) return [];
    return livePids(cgroupPids(this.cgroup));
  }

  /** The live processes of the step, synchronously (for `killNow`): its cgroup's, its group's and every marked one. */
  membersNow(): number[] {
    const found = new Set(this.inCgroup());
    if (CAN_SCAN) {
      for (const pid of findMarked({ mark: this.mark, since: this.since, pgrp: this.leader, after: this.window() })) found.add(pid);
    } else if (this.groupIsOurs() && signalGroup(this.leader!, 0)) {
      found.add(this.leader!); // no /proc: the group is what can be seen
    }
    return [...found];
  }

  /**
   * The live processes of the step. With a cgroup, its `cgroup.procs` is the authority and
   * /proc is only scanned when `scan` is set (terminate does at its start and its end, for
   * a process that moved itself to another cgroup); without one, every call takes part in
   * the scan shared by all steps asking at the same time (scanner.ts).
   */
  async members(scan = true): Promise<number[]> {
    const found = new Set(this.inCgroup());
    if (this.cgroup && !scan) return [...found];
    if (CAN_SCAN) {
      // The scan tells whether the group is still ours (it reads the leader's pid anyway).
      const q = { mark: this.mark, since: this.since, pgrp: this.leader, leaderStart: this.leaderStart, after: this.window() };
      for (const pid of await scanMarked(q)) found.add(pid);
    } else if (this.groupIsOurs() && signalGroup(this.leader!, 0)) {
      found.add(this.leader!);
    }
    return [...found];
  }

  /** The pid after which the step's processes were handed out, while that is certain (PID_WINDOW_MS). */
  private window(): number | undefined {
    return this.leader !== undefined && Date.now() - this.adoptedAt < PID_WINDOW_MS ? this.leader : undefined;
  }

  /**
   * Whether the leader's group may still be signalled: the leader is alive (or a zombie)
   * with the start time it was adopted with, or no process has its pid (then its group id
   * cannot have been handed out again: Linux does not reuse a pid still used as a group
   * id). A live process with another start time got the pid after the group was gone.
   */
  private groupIsOurs(): boolean {
    if (this.leader === undefined) return false;
    if (!CAN_SCAN || this.leaderStart === undefined) return true;
    const st = readProcStat(this.leader);
    return st === undefined || st.start === this.leaderStart;
  }

  /** Signals every process of the step (SIGKILL also through `cgroup.kill`). */
  signal(sig: NodeJS.Signals, pids: number[] = this.membersNow()): void {
    if (this.groupIsOurs()) signalGroup(this.leader!, sig);
    if (sig === 'SIGKILL' && this.cgroup) killCgroup(this.cgroup);
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone already */
      }
    }
  }

  /** SIGKILLs everything of the step now, without waiting (a second Ctrl-C). */
  killNow(): void {
    this.signal('SIGKILL');
  }

  /**
   * Ends every process of the step: SIGTERM, then SIGKILL to what is left after `graceMs`.
   * Resolves when none is left, and at the latest about half a second after the SIGKILL.
   */
  async terminate(graceMs: number): Promise<void> {
    let left = await this.members();
    this.emptySeen = left.length === 0;
    if (this.emptySeen) return;
    const termed = new Set(left);
    this.signal('SIGTERM', left);
    const deadline = Date.now() + graceMs;
    let step = 10;
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(Math.min(step, Math.max(1, deadline - Date.now())));
      step = Math.min(step * 2, 100);
      left = await this.members(false);
      // What was forked meanwhile gets its SIGTERM too.
      const fresh = left.filter((p) => !termed.has(p));
      for (const p of fresh) termed.add(p);
      if (fresh.length > 0) this.signal('SIGTERM', fresh);
    }
    // The last look also scans with a cgroup: what moved out of it is still marked.
    left = await this.members();
    const until = Date.now() + KILL_WAIT_MS;
    while (left.length > 0 && Date.now() < until) {
      this.signal('SIGKILL', left);
      await sleep(20);
      left = await this.members(false);
    }
    this.emptySeen = left.length === 0;
  }

  /**
   * Once nothing of the step is left: forgets it in the ledger and the registry, and gives
   * its cgroup back to the run for its next step. Never waits: a cgroup a just-killed
   * process still keeps busy is not pooled but left to the run's end, which removes every
   * cgroup of the run (closeRunCgroups), so removal never delays a step's end.
   */
  async release(): Promise<void> {
    unregisterContainment(this);
    for (const pid of this.pids) this.o.recorder?.forgetProcess(this.o.runId, this.o.key, pid);
    this.pids.length = 0;
    // A next process of the same step (an install, then `metadata`) is prepared, adopted
    // and registered afresh: a cgroup, a leader and a place in the registry of its own.
    this.prepared = false;
    this.leader = undefined;
    this.since = undefined;
    this.leaderStart = undefined;
    const emptySeen = this.emptySeen;
    this.emptySeen = false;
    const dir = this.cgroup;
    if (!dir) return;
    this.cgroup = undefined;
    giveBackCgroup(this.o.runId, dir, emptySeen);
  }
}

/** Which step an attempt's containment is for. */
export interface ContainmentOptions {
  runId: string;
  key: string;
  attempt: number;
  /** The run's process ledger (the store), for a later runner to reap what a dead one left. */
  recorder?: ProcessRecorder;
  /** Use a cgroup where one can be made (default true). */
  cgroups?: boolean;
}
