/** Timestamps of events: ISO 8601, computed at most once per millisecond (log lines come in bursts). */

let lastMs = -1;
let lastIso = '';

/** The current time as ISO 8601. */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
