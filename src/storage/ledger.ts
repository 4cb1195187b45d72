/**
 * The process ledger: which child processes a run has alive, so a later runner can reap
 * them if this one dies. One append-only file per run, `<home>/procs/<run-id>.pids`, with
 * lines `+ <pid> <start-time> <key>` and `- <pid> <key>`, and for step cgroups
 * `c <dir>` (written before the cgroup is made) and `u <dir>` (once it is removed). A line is one write(2) of an
 * O_APPEND file: on disk (in the kernel's page cache) the moment it returns, so a runner
 * SIGKILLed right after a spawn still leaves the child recorded, at a few microseconds
 * per spawn instead of a database commit.
 */
import fs from 'node:fs';
import path from 'node:path';

/** A recorded child process. */
export interface LedgerEntry {
  pid: number;
  /** Its start time when recorded; null when it could not be read (never signalled). */
  start: string | null;
  key: string;
}

/** The ledger file of a run. */
export function ledgerPath(home: string, runId: string): string {
  return path.join(home, 'procs', `${runId}.pids`);
}

/** What a run's ledger says may still be alive. */
export interface RunLedger {
  /** The processes recorded and not forgotten. */
  processes: LedgerEntry[];
  /** The step cgroups recorded and not removed. */
  cgroups: string[];
}

/** A run's ledger, read once for its processes and its cgroups. */
export function readRunLedger(home: string, runId: string): RunLedger {
  let text: string;
  try {
    text = fs.readFileSync(ledgerPath(home, runId), 'utf8');
  } catch {
    return { processes: [], cgroups: [] };
  }
  const live = new Map<string, LedgerEntry>();
  const dirs = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('c /')) {
      dirs.add(line.slice(2));
      continue;
    }
    if (line.startsWith('u /')) {
      dirs.delete(line.slice(2));
      continue;
    }
    const m = /^([+-]) (\d+) (.*)$/.exec(line);
    if (!m) continue; // a torn last line
    if (m[1] === '+') {
      const sp = m[3]!.indexOf(' ');
      const start = sp < 0 ? m[3]! : m[3]!.slice(0, sp);
      const key = sp < 0 ? '' : m[3]!.slice(sp + 1);
      live.set(`${m[2]} ${key}`, { pid: Number(m[2]), start: start === '-' ? null : start, key });
    } else {
      live.delete(`${m[2]} ${m[3]}`);
    }
  }
  return { processes: [...live.values()], cgroups: [...dirs] };
}

/** The processes a run's ledger says are alive: recorded and not forgotten. */
export function readLedger(home: string, runId: string): LedgerEntry[] {
  return readRunLedger(home, runId).processes;
}

/** Deletes a run's ledger (the run finished or was reaped). */
export function removeLedger(home: string, runId: string): void {
  fs.rmSync(ledgerPath(home, runId), { force: true });
}

/** Appends to the ledgers of the runs this process owns, one open file each. */
export class Ledger {
  private readonly fds = new Map<string, number>();
  private dirMade = false;

  constructor(private readonly home: string) {}

  /** Records a child process of a run's step. */
  record(runId: string, key: string, pid: number, start: string | null): void {
    this.append(runId, `+ ${pid} ${start ?? '-'} ${key}\n`);
  }

  /** Records that a child process ended. */
  forget(runId: string, key: string, pid: number): void {
    this.append(runId, `- ${pid} ${key}\n`);
  }

  /** Records a step's cgroup, before it is made. */
  recordCgroup(runId: string, dir: string): void {
    this.append(runId, `c ${dir}\n`);
  }

  /** Records that a step's cgroup was removed. */
  forgetCgroup(runId: string, dir: string): void {
    this.append(runId, `u ${dir}\n`);
  }

  /** Closes and deletes a finished run's ledger. */
  finish(runId: string): void {
    const fd = this.fds.get(runId);
    if (fd !== undefined) {
      fs.closeSync(fd);
      this.fds.delete(runId);
    }
    removeLedger(this.home, runId);
  }

  /** Closes every open ledger (keeping the files: their runs are not finished). */
  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }

  private append(runId: string, line: string): void {
    let fd = this.fds.get(runId);
    if (fd === undefined) {
      if (!this.dirMade) {
        fs.mkdirSync(path.join(this.home, 'procs'), { recursive: true });
        this.dirMade = true;
      }
      fd = fs.openSync(ledgerPath(this.home, runId), 'a', 0o600);
      this.fds.set(runId, fd);
    }
    fs.writeSync(fd, line);
  }
}
