/** Durations as the pipeline files write them: `<number><ms|s|m|h|d>`, at most {@link MAX_DURATION}. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/;

/** The longest duration the file format and the CLI take (schemas/pipeline.schema.json says so too). */
export const MAX_DURATION = '3650d';

/** {@link MAX_DURATION} in milliseconds (ten years of 365 days). */
export const MAX_DURATION_MS = 3650 * UNIT_MS.d!;

/**
 * Milliseconds of a duration that is well formed and at most {@link MAX_DURATION}, else
 * the reason it is not (for a message that names where it came from).
 */
export function checkDuration(text: string): { ok: true; ms: number } | { ok: false; reason: string } {
  const ms = parseDuration(text);
  if (ms === undefined) return { ok: false, reason: `\`${text}\` is not a duration (a number and a unit: ms, s, m, h or d, e.g. 30s)` };
  if (ms > MAX_DURATION_MS) return { ok: false, reason: `\`${text}\` is longer than the longest duration the runner takes, ${MAX_DURATION}` };
  return { ok: true, ms };
}

/** Milliseconds of a duration such as `30s`, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/** A short human form: `850ms`, `12.3s`, `4m 05s`, `2h 01m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
