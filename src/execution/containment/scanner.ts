/**
 * One shared, asynchronous scan of /proc for every step waiting to know its marked
 * processes. Steps that end or are cancelled at the same time (a cancel of 32 concurrent
 * steps) ask in the same tick; they get one scan between them instead of one each, and the
 * scan yields to the event loop between chunks so that serve's HTTP and the renderers keep
 * going. Only pids handed out since the asking steps' main processes are looked at (where
 * each gave one), and only processes started since the oldest asking step are read
 * (`/proc/<pid>/stat` first, the environment only for those).
 */
import { CAN_SCAN, MARK_VAR, candidates, environHasAny, lastPid, listPids, readProcStat } from './marks.js';

/** What one step asks for: its mark, the start time of its main process and its group. */
export interface ScanQuery {
  mark: string;
  /** Only processes started at or after this (clock ticks). */
  since?: number;
  /** Also the processes of this group (started since `since`). */
  pgrp?: number;
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
  for (let i = 0; i < pids.length; i++) {
    if (i > 0 && i % CHUNK === 0) await tick();
    const pid = pids[i]!;
    const st = readProcStat(pid);
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    if (oldest !== undefined && st.start < oldest) continue;
    const asking = batch.filter((w) => w.q.since === undefined || st.start >= w.q.since);
    const byGroup = asking.filter((w) => w.q.pgrp !== undefined && w.q.pgrp === st.pgrp);
    for (const w of byGroup) w.found.push(pid);
    const rest = asking.filter((w) => !byGroup.includes(w));
    if (rest.length === 0) continue;
    const hit = environHasAny(pid, rest.map((w) => w.entry));
    if (hit >= 0) rest[hit]!.found.push(pid);
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
