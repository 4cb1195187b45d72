/**
 * One shared, asynchronous scan of /proc for every step waiting to know its marked
 * processes. Steps that end or are cancelled at the same time (a cancel of 32 concurrent
 * steps) ask in the same tick; they get one scan between them instead of one each, and the
 * scan yields to the event loop between chunks so that serve's HTTP and the renderers keep
 * going. Only pids handed out since the asking steps' main processes are looked at (where
 * each gave one), and only processes started since the oldest asking step are read
 * (`/proc/<pid>/stat` first, the environment only for those).
 */
import { CAN_SCAN, MARK_VAR, type ProcStat, candidates, environHasAny, isLive, lastPid, listPids, readProcStat } from './marks.js';

/** What one step asks for: its mark, the start time of its main process and its group. */
export interface ScanQuery {
  mark: string;
  /** Only processes started at or after this (clock ticks). */
  since?: number;
  /**
   * Also the processes of this group (started since `since`), as long as the group is the
   * step's: no process has the pid `pgrp`, or the one that has it started at `leaderStart`
   * (a live process with another start time got the pid after the group was gone).
   */
  pgrp?: number;
  /** The start time of the group's leader when it was adopted (undefined: not known, the group is taken as the step's). */
  leaderStart?: number;
  /** A pid handed out before every process looked for: only pids after it need a look (marks.ts, `MarkQuery.after`). */
  after?: number;
}

interface Waiting {
  q: ScanQuery;
  entry: Buffer;
  found: number[];
  resolve: (pids: number[]) => void;
}

/** Pids read between two yields to the event loop. */
const CHUNK = 64;

let queue: Waiting[] = [];
let scheduled = false;

/** The live (non-zombie) processes that carry the query's mark or are in its group; shares a scan with every other query of the tick. */
export function scanMarked(q: ScanQuery): Promise<number[]> {
  if (!CAN_SCAN) return Promise.resolve([]);
  return new Promise((resolve) => {
    queue.push({ q, entry: Buffer.from(`${MARK_VAR}=${q.mark}`), found: [], resolve });
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => void scan());
    }
  });
}

const tick = () => new Promise<void>((r) => setImmediate(r));

async function scan(): Promise<void> {
  const batch = queue;
  queue = [];
  scheduled = false;
  const sinces = batch.map((w) => w.q.since);
  const oldest = sinces.includes(undefined) ? undefined : Math.min(...(sinces as number[]));
  const pids = pidsFor(batch);
  // First every live process's stat, then the matches: a group is only the step's if its
  // leader's pid is not someone else's now, which takes the whole list to know.
  const live: ProcStat[] = [];
  const byPid = new Map<number, ProcStat>();
  for (let i = 0; i < pids.length; i++) {
    if (i > 0 && i % CHUNK === 0) await tick();
    const st = readProcStat(pids[i]!);
    if (!st) continue;
    byPid.set(st.pid, st);
    if (!isLive(st)) continue;
    if (oldest !== undefined && st.start < oldest) continue;
    live.push(st);
  }
  const groupOf = (q: ScanQuery): number | undefined => {
    if (q.pgrp === undefined) return undefined;
    const leader = byPid.get(q.pgrp);
    return leader === undefined || q.leaderStart === undefined || leader.start === q.leaderStart ? q.pgrp : undefined;
  };
  const groups = new Map(batch.map((w) => [w, groupOf(w.q)]));
  for (let i = 0; i < live.length; i++) {
    if (i > 0 && i % CHUNK === 0) await tick();
    const st = live[i]!;
    const asking = batch.filter((w) => w.q.since === undefined || st.start >= w.q.since);
    const byGroup = asking.filter((w) => groups.get(w) === st.pgrp);
    for (const w of byGroup) w.found.push(st.pid);
    const rest = asking.filter((w) => !byGroup.includes(w));
    if (rest.length === 0) continue;
    const hit = environHasAny(st.pid, rest.map((w) => w.entry));
    if (hit >= 0) rest[hit]!.found.push(st.pid);
  }
  for (const w of batch) w.resolve(w.found);
}

/** The pids the batch needs looked at: the union of each query's window, or all when one has none. */
function pidsFor(batch: readonly Waiting[]): number[] {
  if (batch.some((w) => w.q.after === undefined)) return listPids();
  const last = lastPid();
  if (last === undefined) return listPids();
  const union = new Set<number>();
  for (const w of batch) for (const pid of candidates(w.q.after, last)) union.add(pid);
  return [...union];
}
