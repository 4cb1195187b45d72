/**
 * `runner schedule list|start|stop|preview|history`: documents built from the definitions
 * and the store, and their human forms. Times are shown in each schedule's time zone with
 * the offset (`2024-03-10T03:00:00-04:00`); JSON adds the UTC instant.
 */
import type { Database } from 'better-sqlite3';
import { InputError } from '../diagnostics/diagnostic.js';
import type { Definitions, ScheduleDef, ScheduleStatus } from '../definitions/model.js';
import { didYouMean } from '../util/suggest.js';
import { formatInZone, scheduleCron } from './cron.js';
import { type TickRecord, effectiveStatus, lastTicks, readScheduleStates, runStatus, setScheduleStatus, tickHistory } from './state.js';
import { liveServes } from '../serve/presence.js';

/** The schedule called `name`, or an input error naming the closest ones (exit 2). */
export function findSchedule(defs: Definitions, name: string): ScheduleDef {
  const def = defs.schedules.get(name);
  if (def) return def;
  const known = [...defs.schedules.keys()];
  throw new InputError(`unknown schedule \`${name}\`${didYouMean(name, known)}; defined: ${known.join(', ') || 'none'}`);
}

/** A time in JSON: the instant and the schedule's wall-clock time. */
export interface TickTime {
  time: string;
  local: string;
}

const tickTime = (d: Date, tz: string): TickTime => ({ time: d.toISOString(), local: formatInZone(d, tz) });

/** A tick in JSON. */
export interface TickEntry extends TickTime {
  outcome: TickRecord['outcome'];
  run_id: string | null;
  /** The run's status, when the store has the run. */
  run_status: string | null;
  reason: string | null;
}

function tickEntry(db: Database, t: TickRecord, tz: string): TickEntry {
  return {
    ...tickTime(new Date(t.tick_time), tz),
    outcome: t.outcome,
    run_id: t.run_id,
    run_status: t.run_id ? (runStatus(db, t.run_id) ?? null) : null,
    reason: t.reason,
  };
}

/** One schedule in `runner schedule list --json`. */
export interface ScheduleEntry {
  name: string;
  description?: string;
  status: ScheduleStatus;
  /** `default`: the schedule's `default_status`; `set`: someone started or stopped it (at `status_changed_at`). */
  status_source: 'default' | 'set';
  status_changed_at: string | null;
  cron: string;
  timezone: string;
  job: string | null;
  select: string | null;
  env: string | null;
  overlap: ScheduleDef['overlap'];
  catchup: ScheduleDef['catchup'];
  next_ticks: TickTime[];
  last_tick: TickEntry | null;
}

/** A `runner serve` on the store, as `runner schedule list --json` shows it. */
export interface ServeEntry {
  pid: number;
  host: string;
  address: string | null;
  started_at: string;
}

/** `{"schedules": [...], "serves": [...]}` for `runner schedule list`. */
export function scheduleList(defs: Definitions, db: Database, now: Date): { schedules: ScheduleEntry[]; serves: ServeEntry[] } {
  const stored = readScheduleStates(db);
  const last = lastTicks(db);
  const schedules = [...defs.schedules.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((def): ScheduleEntry => {
      const state = stored.get(def.name);
      const lt = last.get(def.name);
      return {
        name: def.name,
        ...(def.description ? { description: def.description } : {}),
        status: effectiveStatus(def, state),
        status_source: state ? 'set' : 'default',
        status_changed_at: state?.updated_at ?? null,
        cron: def.cron,
        timezone: def.timezone,
        job: def.job ?? null,
        select: def.select ?? null,
        env: def.env ?? null,
        overlap: def.overlap,
        catchup: def.catchup,
        next_ticks: scheduleCron(def).nextN(3, now).map((d) => tickTime(d, def.timezone)),
        last_tick: lt ? tickEntry(db, lt, def.timezone) : null,
      };
    });
  const serves = liveServes(db, now).map((p) => ({ pid: p.pid, host: p.host, address: p.address, started_at: p.started_at }));
  return { schedules, serves };
}

function describeTick(t: TickEntry): string {
  if (t.outcome === 'started') return `started run ${t.run_id}${t.run_status ? ` (${t.run_status})` : ''}`;
  return `${t.outcome}${t.reason ? `: ${t.reason}` : ''}`;
}

/** The human form of `runner schedule list`. */
export function formatScheduleList(doc: { schedules: ScheduleEntry[]; serves: ServeEntry[] }): string {
  const out: string[] = [];
  if (doc.schedules.length === 0) out.push('No schedules defined.');
  for (const s of doc.schedules) {
    const what = s.job ? `job ${s.job}` : `select ${s.select}`;
    const source = s.status_source === 'default' ? 'default' : `set ${s.status_changed_at}`;
    out.push(`${s.name}  ${s.status} (${source})  ${what}`);
    out.push(`  cron ${s.cron} in ${s.timezone}; overlap ${s.overlap}; catchup ${s.catchup.policy}${s.catchup.policy === 'all' ? ` (max ${s.catchup.max})` : ''}`);
    out.push(`  next: ${s.next_ticks.map((t) => t.local).join(', ') || 'never'}${s.status === 'stopped' ? ' (if started)' : ''}`);
    out.push(`  last tick: ${s.last_tick ? `${s.last_tick.local} ${describeTick(s.last_tick)}` : 'none'}`);
  }
  out.push(
    doc.serves.length > 0
      ? `runner serve: ${doc.serves.map((p) => `pid ${p.pid} on ${p.host}${p.address ? ` at ${p.address}` : ''}`).join('; ')}`
      : 'runner serve: not running on this store (running schedules tick once it starts)',
  );
  return out.join('\n') + '\n';
}

/** The next `count` ticks of a schedule after `now`. */
export function schedulePreview(def: ScheduleDef, count: number, now: Date): { schedule: string; cron: string; timezone: string; ticks: TickTime[] } {
  return { schedule: def.name, cron: def.cron, timezone: def.timezone, ticks: scheduleCron(def).nextN(count, now).map((d) => tickTime(d, def.timezone)) };
}

/** The human form of `runner schedule preview`. */
export function formatPreview(p: ReturnType<typeof schedulePreview>): string {
  const head = `Next ${p.ticks.length} tick${p.ticks.length === 1 ? '' : 's'} of ${p.schedule} (${p.cron} in ${p.timezone}):`;
  return [head, ...p.ticks.map((t) => `  ${t.local}  (${t.time})`)].join('\n') + '\n';
}

/** `{"schedule", "ticks": [...]}`, most recent first, for `runner schedule history`. */
export function scheduleHistory(def: ScheduleDef, db: Database, limit: number): { schedule: string; timezone: string; ticks: TickEntry[] } {
  return { schedule: def.name, timezone: def.timezone, ticks: tickHistory(db, def.name, limit).map((t) => tickEntry(db, t, def.timezone)) };
}

/** The human form of `runner schedule history`. */
export function formatHistory(h: ReturnType<typeof scheduleHistory>): string {
  if (h.ticks.length === 0) return `No ticks recorded for ${h.schedule}.\n`;
  const rows = h.ticks.map((t) => [t.local, t.outcome, t.outcome === 'started' ? `${t.run_id}${t.run_status ? ` (${t.run_status})` : ''}` : (t.reason ?? '')]);
  const head = [`TICK (${h.timezone})`, 'OUTCOME', 'RUN / REASON'];
  const w0 = Math.max(head[0]!.length, ...rows.map((r) => r[0]!.length));
  const w1 = Math.max(head[1]!.length, ...rows.map((r) => r[1]!.length));
  return [head, ...rows].map((r) => `${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]}`.trimEnd()).join('\n') + '\n';
}

/** Starts or stops a schedule; returns the message for the user. */
export function changeScheduleStatus(def: ScheduleDef, db: Database, status: ScheduleStatus, now: Date): string {
  const before = setScheduleStatus(db, def, status, now);
  const verb = status === 'running' ? 'started' : 'stopped';
  const lines: string[] = [];
  if (before === status) lines.push(`Schedule ${def.name} is already ${status}.`);
  else lines.push(`Schedule ${def.name} ${verb} (was ${before}).`);
  if (status === 'running') {
    const next = scheduleCron(def).next(now);
    lines.push(`Next tick: ${next ? formatInZone(next, def.timezone) : 'never'}.`);
  }
  const serves = liveServes(db, now);
  if (serves.length > 0) {
    const who = serves.map((s) => `pid ${s.pid} on ${s.host}${s.address ? ` at ${s.address}` : ''}`).join(', ');
    lines.push(`The running runner serve (${who}) picks this up within a few seconds.`);
  } else if (status === 'running') {
    lines.push('No runner serve is running on this store: the schedule ticks once one starts.');
  }
  return lines.join('\n') + '\n';
}
