/**
 * What the executor needs from storage besides events: pool slots shared by every run of
 * one RUNNER_HOME, and a record of child process groups for reaping after a crash. The
 * store implements both; `MemoryPoolSlots` serves a single process (tests, no store).
 */

/** Named concurrency limits shared across runs. */
export interface PoolSlots {
  /** Takes a slot of `pool` when fewer than `limit` are held; false when the pool is full. */
  acquirePoolSlot(pool: string, limit: number, runId: string, key: string): boolean;
  releasePoolSlot(pool: string, runId: string, key: string): void;
}

/** Records the process groups of running steps (their leaders' pids) and their cgroups. */
export interface ProcessRecorder {
  /** `start`: its start time as /proc gives it, when the caller has read it already. */
  recordProcess(runId: string, key: string, pid: number, start?: string): void;
  forgetProcess(runId: string, key: string, pid: number): void;
  /** Records a step's cgroup directory, before it is made. */
  recordCgroup?(runId: string, key: string, dir: string): void;
  /** Forgets a cgroup once it is removed. */
  forgetCgroup?(runId: string, key: string, dir: string): void;
}

/** Pool slots held in memory: enough within one process. */
export class MemoryPoolSlots implements PoolSlots {
  private readonly held = new Map<string, Set<string>>();

  acquirePoolSlot(pool: string, limit: number, runId: string, key: string): boolean {
    let set = this.held.get(pool);
    if (!set) this.held.set(pool, (set = new Set()));
    if (set.size >= limit) return false;
    set.add(`${runId}\u0000${key}`);
    return true;
  }

  releasePoolSlot(pool: string, runId: string, key: string): void {
    this.held.get(pool)?.delete(`${runId}\u0000${key}`);
  }
}
