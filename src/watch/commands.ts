/**
 * `runner watcher list|start|stop|history`: documents built from the definitions and the
 * store, and their human forms. Times are UTC ISO 8601.
 */
import type { Database } from 'better-sqlite3';
import { InputError } from '../diagnostics/diagnostic.js';
import type { Definitions, ScheduleStatus, WatcherDef } from '../definitions/model.js';
import { didYouMean } from '../util/suggest.js';
import { liveServes } from '../serve/presence.js';
import { type AlertRow, type AlertStatus, alertCounts, alertHistory, effectiveWatcherStatus, eventHistory, parseCursor, readWatcherStates, setWatcherStatus } from './state.js';

/** The watcher called `name`, or an input error naming the closest ones (exit 2). */
export function findWatcher(defs: Definitions, name: string): WatcherDef {
  const def = defs.watchers.get(name);
  if (def) return def;
  const known = [...defs.watchers.keys()];
  throw new InputError(`unknown watcher \`${name}\`${didYouMean(name, known)}; defined: ${known.join(', ') || 'none'}`);
}

const isoOf = (seconds: number): string => new Date(Math.round(seconds * 1000)).toISOString();

/** An interval as the pipeline files write it: `30s`, `5m`, `1h`, `750ms`. */
export function formatInterval(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** One watcher in `runner watcher list --json`. */
export interface WatcherEntry {
  name: string;
  description?: string;
  status: ScheduleStatus;
  /** `default`: the watcher's `default_status`; `set`: someone started or stopped it. */
  status_source: 'default' | 'set';
  status_changed_at: string | null;
  /** As written in the pipeline files (`${var:dagster_url}`). */
  dagster_url: string;
  interval: string;
  notify: string[];
  default_status: ScheduleStatus;
  /** Failed runs up to this time (Dagster's clock) have been handled; null before the first poll. */
  cursor: string | null;
  last_poll_at: string | null;
  last_success_at: string | null;
  consecutive_failures: number;
  last_error: string | null;
  /** Failed runs seen, by what became of their alert. */
  alerts: Partial<Record<AlertStatus, number>>;
}

/** `{"watchers": [...]}` for `runner watcher list`. */
export function watcherList(defs: Definitions, db: Database): { watchers: WatcherEntry[] } {
  const states = readWatcherStates(db);
  const counts = alertCounts(db);
  const watchers = [...defs.watchers.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((def): WatcherEntry => {
      const row = states.get(def.name);
      const cursor = parseCursor(row?.cursor);
      return {
        name: def.name,
        ...(def.description ? { description: def.description } : {}),
        status: effectiveWatcherStatus(def, row),
        status_source: row?.status_source === 'set' ? 'set' : 'default',
        status_changed_at: row?.status_source === 'set' ? row.updated_at : null,
        dagster_url: def.dagster.url,
        interval: formatInterval(def.intervalMs),
        notify: def.notify,
        default_status: def.defaultStatus,
        cursor: cursor ? isoOf(cursor.updated_after) : null,
        last_poll_at: row?.last_poll_at ?? null,
        last_success_at: row?.last_success_at ?? null,
        consecutive_failures: row?.failures ?? 0,
        last_error: row?.last_error ?? null,
        alerts: counts.get(def.name) ?? {},
      };
    });
  return { watchers };
}

/** The human form of `runner watcher list`. */
export function formatWatcherList(doc: { watchers: WatcherEntry[] }): string {
  if (doc.watchers.length === 0) return 'No watchers defined.\n';
  const out: string[] = [];
  for (const w of doc.watchers) {
    const source = w.status_source === 'default' ? 'default' : `set ${w.status_changed_at}`;
    out.push(`${w.name}  ${w.status} (${source})  Dagster ${w.dagster_url} every ${w.interval} -> ${w.notify.join(', ')}`);
    const last = w.last_poll_at ? `last poll ${w.last_poll_at}${w.consecutive_failures > 0 ? `: failing (${w.consecutive_failures} in a row): ${w.last_error}` : ': ok'}` : 'never polled';
    out.push(`  ${last}`);
    const counts = Object.entries(w.alerts).map(([k, n]) => `${n} ${k}`);
    out.push(`  failed runs handled up to ${w.cursor ?? '(not started)'}${counts.length ? `; alerts: ${counts.join(', ')}` : ''}`);
  }
  return out.join('\n') + '\n';
}

/** Starts or stops a watcher; returns the message for the user. */
export function changeWatcherStatus(def: WatcherDef, db: Database, status: ScheduleStatus, now: Date): string {
  const before = setWatcherStatus(db, def, status, now);
  const lines: string[] = [];
  if (before === status) lines.push(`Watcher ${def.name} is already ${status}.`);
  else lines.push(`Watcher ${def.name} ${status === 'running' ? 'started' : 'stopped'} (was ${before}).`);
  if (status === 'running' && before !== 'running') lines.push(`It alerts on Dagster runs that fail from now on (${now.toISOString()}).`);
  const serves = liveServes(db, now);
  if (serves.length > 0) {
    const who = serves.map((s) => `pid ${s.pid} on ${s.host}${s.address ? ` at ${s.address}` : ''}`).join(', ');
    lines.push(`The running runner serve (${who}) picks this up within a few seconds.`);
  } else if (status === 'running') {
    lines.push('No runner serve is running on this store: the watcher polls once one starts.');
  }
  return lines.join('\n') + '\n';
}

/** One entry of `runner watcher history`: a failed run and its alert, or a stretch of poll errors. */
export type HistoryEntry =
  | {
      kind: 'alert';
      /** When the failed run was first seen (claimed). */
      time: string;
      run_id: string;
      job: string | null;
      location: string | null;
      /** When Dagster recorded the failure. */
      failed_at: string | null;
      status: AlertStatus;
      attempts: number;
      next_attempt_at: string | null;
      sent_at: string | null;
      detail: string | null;
    }
  | { kind: 'error' | 'recovered'; time: string; first_at: string; count: number; detail: string | null };

function alertEntry(r: AlertRow): HistoryEntry {
  return {
    kind: 'alert',
    time: r.claimed_at,
    run_id: r.run_id,
    job: r.job,
    location: r.location,
    failed_at: r.run_updated_at !== null ? isoOf(r.run_updated_at) : null,
    status: r.status,
    attempts: r.attempts,
    next_attempt_at: r.next_attempt_at,
    sent_at: r.sent_at,
    detail: r.detail,
  };
}

/** `{"watcher", "entries": [...]}`, newest first, for `runner watcher history`. */
export function watcherHistory(def: WatcherDef, db: Database, limit: number): { watcher: string; entries: HistoryEntry[] } {
  const alerts = alertHistory(db, def.name, limit).map(alertEntry);
  const events = eventHistory(db, def.name, limit).map((e): HistoryEntry => ({ kind: e.kind, time: e.last_at, first_at: e.first_at, count: e.count, detail: e.detail }));
  const entries = [...alerts, ...events].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, limit);
  return { watcher: def.name, entries };
}

/** The human form of `runner watcher history`. */
export function formatWatcherHistory(h: ReturnType<typeof watcherHistory>): string {
  if (h.entries.length === 0) return `Nothing recorded for ${h.watcher} yet.\n`;
  const rows = h.entries.map((e) => {
    if (e.kind === 'alert') {
      const what = `${e.run_id.split('-')[0]} ${e.job ?? '?'}${e.location ? ` (${e.location})` : ''}`;
      const retry = e.status === 'failed' && e.next_attempt_at ? ` (attempt ${e.attempts}, retry at ${e.next_attempt_at})` : '';
      return [e.time, e.status, `${what}${e.detail ? `: ${e.detail}` : ''}${retry}`];
    }
    const times = e.count > 1 ? ` (${e.count} polls since ${e.first_at})` : '';
    return [e.time, e.kind === 'error' ? 'poll error' : 'recovered', `${e.detail ?? ''}${times}`];
  });
  const head = ['TIME', 'WHAT', 'RUN / DETAIL'];
  const w0 = Math.max(head[0]!.length, ...rows.map((r) => r[0]!.length));
  const w1 = Math.max(head[1]!.length, ...rows.map((r) => r[1]!.length));
  return [head, ...rows].map((r) => `${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]}`.trimEnd()).join('\n') + '\n';
}
