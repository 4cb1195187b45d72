/**
 * Cron expressions as croner reads them: five fields, or six with a leading seconds field,
 * in an IANA time zone. Daylight-saving changes behave as croner defines them (a fixed-time
 * job in a spring-forward gap runs right after the gap, once on a fall-back repeat; an
 * interval job skips the gap and runs on both passes of a repeated hour).
 *
 * A compiled expression is a croner `Cron` built without a callback, so it never starts a
 * timer: the scheduler asks it for times and keeps its own single timer.
 */
import { Cron } from 'croner';
import type { ScheduleDef } from '../definitions/model.js';

/** A schedule's cron expression compiled in its time zone. */
export interface CompiledCron {
  readonly cron: string;
  readonly timezone: string;
  /** The first tick strictly after `after`, or null when there is none. */
  next(after: Date): Date | null;
  /** Up to `n` ticks strictly after `after`, in order. */
  nextN(n: number, after: Date): Date[];
  /** Up to `n` ticks strictly before `before`, most recent first. */
  previousN(n: number, before: Date): Date[];
}

const cache = new Map<string, CompiledCron>();

/**
 * Compiles (and caches) a cron expression in a time zone. Throws croner's error on an
 * invalid expression; the loader has validated every schedule's expression already.
 */
export function compileCron(cron: string, timezone: string): CompiledCron {
  const key = `${timezone}\u0000${cron}`;
  const hit = cache.get(key);
  if (hit) return hit;
  // No callback: croner does not schedule anything, it only computes times.
  const job = new Cron(cron, { timezone });
  const compiled: CompiledCron = {
    cron,
    timezone,
    next: (after) => job.nextRun(after),
    nextN: (n, after) => (n <= 0 ? [] : job.nextRuns(n, after)),
    previousN: (n, before) => (n <= 0 ? [] : job.previousRuns(n, before)),
  };
  // The cache is bounded by the expressions in the definitions; reloads may add a few.
  if (cache.size > 1000) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

/** The compiled expression of a schedule. */
export function scheduleCron(def: Pick<ScheduleDef, 'cron' | 'timezone'>): CompiledCron {
  return compileCron(def.cron, def.timezone);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/**
 * A time as a wall-clock time in a zone with its offset, ISO 8601 style:
 * `2024-03-10T03:00:00-04:00` (`Z` for UTC).
 */
export function formatInZone(date: Date, timezone: string): string {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timezone).formatToParts(date)) parts[p.type] = p.value;
  // `longOffset` gives `GMT-04:00`, and `GMT` or `GMT+00:00` for a zero offset.
  const raw = (parts.timeZoneName ?? 'GMT').replace('GMT', '');
  const offset = raw === '' || raw === '+00:00' || raw === '-00:00' ? 'Z' : raw;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}
