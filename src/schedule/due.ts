/**
 * The scheduling core, a pure function of (now, cursor, schedule) to the ticks due. No
 * timers and no store: the scheduler loop calls it on every wake-up, and tests call it
 * with fixed dates.
 *
 * The cursor is the time up to which a schedule's ticks are settled: its last recorded
 * tick, the time it was started, or the time this process last looked. Ticks in
 * (cursor, now] are candidates. A candidate older than `lateAfterMs` was missed (serve was
 * down or the process stalled); what happens to it is the schedule's catch-up policy:
 * - `latest`: run only the most recent candidate (a deploy across 02:00 still runs the
 *   nightly job once);
 * - `skip`: run only candidates that are on time, none of the missed ones;
 * - `all`: run the most recent `max` candidates, oldest first.
 */
import type { ScheduleDef } from '../definitions/model.js';
import type { CompiledCron } from './cron.js';

/** A tick this much older than `now` counts as missed rather than on time. */
export const DEFAULT_LATE_AFTER_MS = 60_000;
/** How many missed ticks beyond what runs are listed (for logs and metrics). */
export const MISSED_SAMPLE = 100;

/** What the core needs to know. */
export interface DueInput {
  now: Date;
  /** Ticks at or before this time are settled. */
  cursor: Date;
  cron: CompiledCron;
  catchup: ScheduleDef['catchup'];
  /** A candidate older than this is a missed tick (default 60 s). */
  lateAfterMs?: number;
}

/** The ticks to act on now. */
export interface DuePlan {
  /** Ticks to run now, oldest first. */
  run: Date[];
  /** Candidates the catch-up policy leaves out, most recent first (at most MISSED_SAMPLE). */
  missed: Date[];
  /** True when even more ticks were missed than `missed` lists. */
  missedMore: boolean;
  /** The first tick strictly after `now`: when to look again. */
  next: Date | null;
}

/** The ticks due at `now` for a schedule whose ticks up to `cursor` are settled. */
export function dueTicks(input: DueInput): DuePlan {
  const { now, cursor, cron, catchup } = input;
  const lateAfterMs = input.lateAfterMs ?? DEFAULT_LATE_AFTER_MS;
  const next = cron.next(now);
  const first = cron.next(cursor);
  // The common case, on every idle wake-up: nothing due since the cursor.
  if (first === null || first.getTime() > now.getTime()) return { run: [], missed: [], missedMore: false, next };

  const keep = catchup.policy === 'all' ? Math.max(1, catchup.max) : 1;
  const limit = keep + MISSED_SAMPLE;
  // Most recent first; `previousN` is exclusive, so step 1 ms past now to include a tick at now.
  const candidates = cron.previousN(limit, new Date(now.getTime() + 1)).filter((t) => t.getTime() > cursor.getTime());
  const missedMore = candidates.length === limit && cron.next(cursor)!.getTime() < candidates[candidates.length - 1]!.getTime();

  let run: Date[];
  switch (catchup.policy) {
    case 'latest':
      run = candidates.slice(0, 1);
      break;
    case 'skip':
      run = candidates.filter((t) => now.getTime() - t.getTime() <= lateAfterMs);
      break;
    case 'all':
      run = candidates.slice(0, keep);
      break;
  }
  const chosen = new Set(run.map((t) => t.getTime()));
  const missed = candidates.filter((t) => !chosen.has(t.getTime())).slice(0, MISSED_SAMPLE);
  return { run: run.reverse(), missed, missedMore, next };
}

/**
 * Where a schedule's cursor starts when this process begins to tick it: its last recorded
 * tick or the time it was started (whichever is later), else now (a schedule running by
 * default that never ticked has missed nothing).
 */
export function initialCursor(input: { now: Date; lastTick?: Date; startedAt?: Date }): Date {
  const times = [input.lastTick, input.startedAt].filter((t): t is Date => t !== undefined).map((t) => t.getTime());
  if (times.length === 0) return input.now;
  // Never in the future: a clock that moved back must not make past ticks look settled forever.
  return new Date(Math.min(Math.max(...times), input.now.getTime()));
}
