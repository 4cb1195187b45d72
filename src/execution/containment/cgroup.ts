/**
 * A cgroup v2 per step, where the runner may create one: every process the step starts
 * stays in it whatever it does with process groups and sessions (leaving takes write
 * access to another cgroup), and `cgroup.kill` ends them all at once. The step cgroups are
 * children of the runner's own cgroup (`runner-<run-id>-<n>`); where that is not writable
 * (no delegation, read-only /sys) or there is no cgroup v2, steps have the mark alone.
 * `RUNNER_CGROUPS=off` turns them off. Everything here is synchronous and never throws.
 */
import fs from 'node:fs';
import path from 'node:path';

let base: string | null | undefined;

/** The runner's own cgroup v2 directory when step cgroups can be made in it, else null. */
export function cgroupBase(env: Record<string, string | undefined> = process.env): string | null {
  if (base !== undefined) return base;
  base = null;
  if (process.platform !== 'linux' || env.RUNNER_CGROUPS === 'off' || env.RUNNER_CGROUPS === '0') return base;
  try {
    const own = fs
      .readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    if (own === undefined) return base;
    const mount = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      // Fields: id parent dev root mountpoint options ... - fstype source superoptions.
      .find((f) => f[f.indexOf('-') + 1] === 'cgroup2' && f[3] === '/');
    if (!mount) return base;
    const dir = path.join(mount[4]!, own.slice(3).trim());
    fs.accessSync(dir, fs.constants.W_OK);
    if (!fs.existsSync(path.join(dir, 'cgroup.procs'))) return base;
    base = dir;
  } catch {
    base = null;
  }
  return base;
}

/** Forgets what `cgroupBase` found (tests switch RUNNER_CGROUPS). */
export function resetCgroupBase(): void {
  base = undefined;
}

/** Creates a step's cgroup; undefined when it cannot be made (then no more are tried). */
export function createCgroup(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir);
    return dir;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return dir;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT') base = null;
    return undefined;
  }
}

/**
 * Open cgroup files (`cgroup.procs` for joins, `cgroup.events` for reads), by path: a
 * step's cgroup is joined once per process it starts and looked at when each ends, and
 * open and close were most of the cost. Closed when the cgroup is removed
 * (`removeCgroup`), and bounded for a long-lived `serve`.
 */
const openFiles = new Map<string, number>();
const MAX_OPEN = 256;

type Mode = 'r' | 'w';

/** The cached descriptor of a cgroup file opened for `mode`, opened on first use. Throws when it cannot be opened. */
function cachedFd(file: string, mode: Mode): number {
  const key = mode + file;
  let fd = openFiles.get(key);
  if (fd === undefined) {
    fd = fs.openSync(file, mode);
    if (openFiles.size >= MAX_OPEN) for (const k of [...openFiles.keys()]) closeKey(k);
    openFiles.set(key, fd);
  }
  return fd;
}

function closeKey(key: string): void {
  const fd = openFiles.get(key);
  if (fd === undefined) return;
  openFiles.delete(key);
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}

const closeCached = (file: string, mode: Mode): void => closeKey(mode + file);

/** Closes the cached files of a cgroup. */
function forgetFiles(dir: string): void {
  for (const name of ['cgroup.procs', 'cgroup.events']) for (const mode of ['r', 'w'] as const) closeCached(path.join(dir, name), mode);
}

/** Moves a process (and the children it starts from now on) into the cgroup. */
export function joinCgroup(dir: string, pid: number): boolean {
  const file = path.join(dir, 'cgroup.procs');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeSync(cachedFd(file, 'w'), `${pid}\n`);
      return true;
    } catch {
      // The cgroup went, or refused this process: asked once more through a fresh file.
      closeCached(file, 'w');
    }
  }
  return false;
}

let procsBuf = Buffer.alloc(4096);

/**
 * The pids in the cgroup itself (not below it); none when it cannot be read. `keepOpen`:
 * through a kept descriptor, for a cgroup read at every spawn (the runner's own).
 */
export function cgroupProcs(dir: string, keepOpen = false): number[] {
  const file = path.join(dir, 'cgroup.procs');
  let text: string;
  try {
    if (keepOpen) {
      const fd = cachedFd(file, 'r');
      // Read from the start each time (a fresh listing); grow the buffer until it all fits.
      let n: number;
      while ((n = fs.readSync(fd, procsBuf, 0, procsBuf.length, 0)) === procsBuf.length) procsBuf = Buffer.alloc(procsBuf.length * 4);
      text = procsBuf.toString('latin1', 0, n);
    } else {
      text = fs.readFileSync(file, 'latin1');
    }
  } catch {
    if (keepOpen) closeCached(file, 'r');
    return [];
  }
  const out: number[] = [];
  for (const l of text.split('\n')) if (l) out.push(Number(l));
  return out;
}

/** The processes of the cgroup and of the cgroups below it (a nested runner's steps). */
export function cgroupPids(dir: string): number[] {
  // `populated 0` in cgroup.events: nothing in it or below it, one read instead of a walk.
  if (unpopulated(dir)) return [];
  const out: number[] = [];
  const walk = (d: string, depth: number): void => {
    out.push(...cgroupProcs(d));
    if (depth > 8) return;
    for (const sub of subdirs(d)) walk(path.join(d, sub), depth + 1);
  };
  walk(dir, 0);
  return out;
}

const eventsBuf = Buffer.alloc(256);

/** Whether cgroup.events says no process is in the cgroup or below it (false when it cannot be read). */
function unpopulated(dir: string): boolean {
  const file = path.join(dir, 'cgroup.events');
  try {
    // Read from the start each time: a fresh listing.
    const n = fs.readSync(cachedFd(file, 'r'), eventsBuf, 0, eventsBuf.length, 0);
    return /^populated 0$/m.test(eventsBuf.toString('latin1', 0, n));
  } catch {
    closeCached(file, 'r');
    return false;
  }
}

function subdirs(d: string): string[] {
  try {
    return fs
      .readdirSync(d, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/**
 * SIGKILLs every process of the cgroup and below: `cgroup.kill` (Linux 5.14+) also takes
 * the processes forked meanwhile; without it, each listed process.
 */
export function killCgroup(dir: string): void {
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
    return;
  } catch {
    /* no cgroup.kill: one by one */
  }
  for (const pid of cgroupPids(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Removes the cgroup and the empty cgroups below it; false while processes are left in it. */
export function removeCgroup(dir: string): boolean {
  forgetFiles(dir);
  for (const sub of subdirs(dir)) removeCgroup(path.join(dir, sub));
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** The step cgroups of a run found by name under this runner's cgroup (`runner-<run-id>-...`). */
export function runCgroupsByName(runId: string): string[] {
  const root = cgroupBase();
  if (!root) return [];
  return subdirs(root)
    .filter((n) => n.startsWith(`runner-${runId}-`))
    .map((n) => path.join(root, n));
}

/** Step cgroups under this runner's cgroup, with the run id in each name. */
export function stepCgroups(): Array<{ dir: string; runId: string }> {
  const root = cgroupBase();
  if (!root) return [];
  const out: Array<{ dir: string; runId: string }> = [];
  for (const n of subdirs(root)) {
    // runner-<run-id>-<pid>-<n>; the run id may itself hold dashes.
    const m = /^runner-(.+)-[0-9]+-[0-9]+$/.exec(n);
    if (m) out.push({ dir: path.join(root, n), runId: m[1]! });
  }
  return out;
}
