/**
 * The mark every process of a step carries: an environment variable, `RUNNER_STEP`, whose
 * value names the run, the attempt and the step (`<run-id>/<attempt>/<key>`). A process
 * inherits it through fork and exec whatever process group or session it moves to, so
 * `/proc/<pid>/environ` (the environment it was started with) finds a step's processes
 * after a `setsid`, a double fork or a `setpgid`, and finds a dead runner's children even
 * when the runner died before it recorded them (Jenkins' ProcessTreeKiller does the same).
 * Only a process that clears its environment at exec escapes the mark. Linux only.
 */
import fs from 'node:fs';
import { type ProcStat, readProcStat } from '../../storage/proc.js';

/** The variable that marks a step's processes. */
export const MARK_VAR = 'RUNNER_STEP';

/** The mark of one attempt of a step. */
export function stepMark(runId: string, attempt: number, key: string): string {
  return `${runId}/${attempt}/${key}`;
}

/** Whether this system has /proc with environ files to scan. */
export const CAN_SCAN = process.platform === 'linux' && fs.existsSync('/proc/self/environ');

/** /proc/<pid>/stat is read by one reader for the reaper and the step-end scan alike. */
export { type ProcStat, readProcStat };

/** Whether a process read from /proc is alive: neither a zombie (Z) nor dead (X). */
export function isLive(st: ProcStat | undefined): st is ProcStat {
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

/** Those of `pids` that are alive (isLive). */
export function livePids(pids: readonly number[]): number[] {
  return pids.filter((pid) => isLive(readProcStat(pid)));
}

/** Every process /proc lists, by pid (own process excluded). */
export function listPids(): number[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(n);
    if (pid !== process.pid) out.push(pid);
  }
  return out;
}

/**
 * Whether the environment a process started with holds `entry` (a whole `NAME=value`, or,
 * when `prefix` is true, an entry beginning with it). False when it cannot be read (gone,
 * a zombie, or not ours to read).
 */
export function environHas(pid: number, entry: Buffer, prefix: boolean): boolean {
  let env: Buffer;
  try {
    env = fs.readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  return holds(env, entry, prefix);
}

/** Whether a NUL-separated environment holds `entry` as a whole entry (or, with `prefix`, at an entry's start). */
function holds(env: Buffer, entry: Buffer, prefix: boolean): boolean {
  for (let at = env.indexOf(entry); at >= 0; at = env.indexOf(entry, at + 1)) {
    if (at > 0 && env[at - 1] !== 0) continue; // inside another entry's value
    const end = at + entry.length;
    if (prefix || end === env.length || env[end] === 0) return true;
  }
  return false;
}

/**
 * Which of `entries` (whole `NAME=value` entries) the environment a process started with
 * holds: the index of the first found, or -1 (also when it cannot be read). One read for
 * every step a shared scan asks for (scanner.ts).
 */
export function environHasAny(pid: number, entries: readonly Buffer[]): number {
  let env: Buffer;
  try {
    env = fs.readFileSync(`/proc/${pid}/environ`);
  } catch {
    return -1;
  }
  return entries.findIndex((entry) => holds(env, entry, false));
}

/** What a scan looks for: a step's processes or a run's. */
export interface MarkQuery {
  /** `RUNNER_STEP=<mark>` exactly, or (`prefix`) every mark that begins with it. */
  mark: string;
  prefix?: boolean;
  /** Only processes started at or after this start time (clock ticks): a mark is never older than its step. */
  since?: number;
  /** Also every process of this group (the step's main process's) started since `since`. */
  pgrp?: number;
  /**
   * The pid of a process started before every process looked for (the step's main
   * process, itself included): pids are handed out in cyclic order, so only pids after it
   * up to the last one handed out (`/proc/sys/kernel/ns_last_pid`) need a look. This keeps
   * a scan at a handful of reads on a machine with many processes.
   */
  after?: number;
}

let lastPidFd: number | undefined;
const lastPidBuf = Buffer.alloc(32);

/** The last pid handed out in this pid namespace, or undefined when it cannot be read. */
export function lastPid(): number | undefined {
  try {
    // Kept open: a read at offset 0 asks the kernel afresh (one syscall per scan, not three).
    lastPidFd ??= fs.openSync('/proc/sys/kernel/ns_last_pid', 'r');
    const n = Number(lastPidBuf.toString('latin1', 0, fs.readSync(lastPidFd, lastPidBuf, 0, lastPidBuf.length, 0)));
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    const fd = lastPidFd;
    lastPidFd = undefined;
    if (fd !== undefined) fs.close(fd, () => undefined);
    return undefined;
  }
}

/** Pids handed out from `after` to `last`, when few: tried one by one instead of listing /proc. */
const DIRECT_SPAN = 256;

/** The pids to look at: those that may have been handed out since `after`, else all. */
export function candidates(after: number | undefined, last: number | undefined): number[] {
  if (after === undefined || last === undefined) return listPids();
  if (last >= after && last - after <= DIRECT_SPAN) {
    const out: number[] = [];
    for (let p = after; p <= last; p++) if (p !== process.pid) out.push(p);
    return out;
  }
  return listPids().filter((pid) => newer(pid, after, last));
}

/** Whether `pid` may have been handed out after `after` (cyclically, up to `last`). */
function newer(pid: number, after: number, last: number): boolean {
  return last >= after ? pid >= after && pid <= last : pid >= after || pid <= last;
}

/** The live (non-zombie) processes that carry the mark or belong to the group. */
export function findMarked(q: MarkQuery): number[] {
  if (!CAN_SCAN) return [];
  const entry = Buffer.from(`${MARK_VAR}=${q.mark}`);
  const out: number[] = [];
  const last = q.after !== undefined ? lastPid() : undefined;
  for (const pid of candidates(q.after, last)) {
    const st = readProcStat(pid);
    if (!isLive(st)) continue;
    // Older than the step: not the step's, whatever its group (a group id can be reused).
    if (q.since !== undefined && st.start < q.since) continue;
    if ((q.pgrp !== undefined && st.pgrp === q.pgrp) || environHas(pid, entry, q.prefix === true)) out.push(pid);
  }
  return out;
}
