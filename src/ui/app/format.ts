/** Times, durations and ids as the pages show them (pure, so tests can check them). */
import { formatDuration } from '../../util/duration.js';

export { formatDuration };

const pad = (n: number): string => String(n).padStart(2, '0');

/** The browser's short name of its time zone at `d` (`CEST`, `UTC`, `GMT+2`). */
export function zoneName(d: Date): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
  } catch {
    return '';
  }
}

/** `2024-05-01 12:00:00 CEST` in the browser's time zone (named), or `-`. */
export function localTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const zone = zoneName(d);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone ? ' ' + zone : ''}`;
}

/** `2024-05-01 12:00:00 UTC`: the time in UTC, for hovers beside a local time. */
export function utcTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** `12:00:01.204`, the local time of day with milliseconds (log lines). */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** `just now`, `5 min ago`, `3 h ago`, `2 days ago` (and `in 5 min` for the future). */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const diff = now - t;
  const abs = Math.abs(diff);
  let text: string;
  if (abs < 45_000) return diff >= 0 ? 'just now' : 'in a moment';
  if (abs < 3_600_000) text = `${Math.round(abs / 60_000)} min`;
  else if (abs < 86_400_000) text = `${Math.round(abs / 3_600_000)} h`;
  else {
    const days = Math.round(abs / 86_400_000);
    text = `${days} day${days === 1 ? '' : 's'}`;
  }
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** The time between two ISO times (or until `now` while unfinished), or `-` before the start. */
export function elapsed(start: string | null | undefined, end: string | null | undefined, now: number = Date.now()): string {
  if (!start) return '-';
  const a = Date.parse(start);
  const b = end ? Date.parse(end) : now;
  return formatDuration(Math.max(0, b - a));
}

/** The first 8 characters of a run id (what `runner runs` shows). */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** `1,204` style numbers; `-` for null. */
export function count(n: unknown): string {
  return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : '-';
}

/** Step counts by status in plan order of first appearance: `2 success, 1 failure`. */
export function stepCounts(steps: ReadonlyArray<{ status: string }>): string {
  const counts = new Map<string, number>();
  for (const s of steps) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
}

/** Records and errors from a step's metadata (OpenMetadata's summary or a handler's own `records`). */
export function recordsOf(metadata: Record<string, unknown> | null | undefined): { records: number | null; errors: number | null } {
  if (!metadata) return { records: null, errors: null };
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return { records: num(metadata['records_processed']) ?? num(metadata['records']), errors: num(metadata['errors']) };
}
