/**
 * Timers for any duration the pipeline files allow. Node's timers take at most 2^31 - 1 ms
 * (about 24.8 days): a longer delay fires after 1 ms (with a TimeoutOverflowWarning). A
 * long timer here is a chain of Node timers of at most that length, so a 30-day timeout
 * waits 30 days; an API that takes one Node timer gets a clamped delay.
 */

/** The longest delay one Node timer takes. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer that may be longer than one Node timer. */
export interface LongTimer {
  /** Cancels it (nothing happens when it already fired). */
  clear(): void;
  /** Lets the process exit while only this timer is pending. */
  unref(): LongTimer;
}

/** Calls `fn` once after `ms` milliseconds, for any `ms` (chained Node timers). */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  const due = Date.now() + Math.max(0, ms);
  let left = Math.max(0, ms);
  let handle: NodeJS.Timeout;
  let unref = false;
  const arm = (): void => {
    const now = Math.min(left, MAX_TIMER_MS);
    left -= now;
    handle = setTimeout(() => {
      // Chain on by what is left of the planned delay; a clock jump does not stretch it.
      if (left > 0) {
        left = Math.min(left, Math.max(0, due - Date.now()));
        arm();
      } else fn();
    }, now);
    if (unref) handle.unref();
  };
  arm();
  const timer: LongTimer = {
    clear: () => clearTimeout(handle),
    unref: () => {
      unref = true;
      handle.unref();
      return timer;
    },
  };
  return timer;
}

/** A delay for an API that takes one Node timer: clamped to what a Node timer can wait. */
export function timerMs(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_MS);
}
