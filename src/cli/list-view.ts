/** The data and the table of `runner list`. */
import { Cron } from 'croner';
import { InputError } from '../diagnostics/diagnostic.js';
import type { Definitions } from '../definitions/model.js';
import { selectionContext } from './selection.js';
import { select } from '../selection/index.js';

export interface ListDocument {
  assets: Array<{ key: string; group: string; handler: string; deps: string[]; description: string | null; tags: Record<string, string>; kinds: string[]; owners: string[] }>;
  jobs: Array<{ name: string; description: string | null; select: string; assets: string[] }>;
  schedules: Array<{ name: string; description: string | null; cron: string; timezone: string; job: string | null; select: string | null; default_status: string; overlap: string; catchup: { policy: string; max: number }; next_tick: string | null }>;
  notifications: Array<{ name: string; description: string | null; on: string[]; channel: 'slack' }>;
  watchers: Array<{ name: string; description: string | null; dagster_url: string; interval_ms: number; notify: string[]; default_status: string }>;
}

/** What `runner list --json` prints: assets in topological order. */
export async function listDocument(defs: Definitions, selection?: string, now = new Date()): Promise<ListDocument> {
  const ctx = selectionContext(defs);
  let keys: string[];
  if (selection !== undefined) {
    const r = select(selection, ctx);
    if (!r.ok) throw new InputError(r.diagnostics);
    keys = r.value;
  } else keys = [...defs.graph.topoOrder()];
  const assets = keys.map((k) => {
    const a = defs.assets.get(k)!;
    return { key: a.key, group: a.group, handler: a.handler, deps: a.deps, description: a.description ?? null, tags: a.tags, kinds: a.kinds, owners: a.owners };
  });
  const jobs = [...defs.jobs.values()].map((j) => {
    const r = select(j.select, ctx);
    return { name: j.name, description: j.description ?? null, select: j.select, assets: r.ok ? r.value : [] };
  });
  const schedules = [...defs.schedules.values()].map((s) => ({
    name: s.name,
    description: s.description ?? null,
    cron: s.cron,
    timezone: s.timezone,
    job: s.job ?? null,
    select: s.select ?? null,
    default_status: s.defaultStatus,
    overlap: s.overlap,
    catchup: s.catchup,
    next_tick: nextTick(s.cron, s.timezone, now),
  }));
  const notifications = [...defs.notifications.values()].map((n) => ({ name: n.name, description: n.description ?? null, on: n.on, channel: 'slack' as const }));
  const watchers = [...defs.watchers.values()].map((w) => ({ name: w.name, description: w.description ?? null, dagster_url: w.dagster.url, interval_ms: w.intervalMs, notify: w.notify, default_status: w.defaultStatus }));
  return { assets, jobs, schedules, notifications, watchers };
}

function nextTick(cron: string, timezone: string, now: Date): string | null {
  const c = new Cron(cron, { timezone, paused: true });
  const next = c.nextRun(now);
  c.stop();
  return next ? next.toISOString() : null;
}

/** Prints the human tables. */
export function printList(doc: ListDocument): void {
  const out: string[] = [];
  out.push(`Assets (${doc.assets.length})`);
  out.push(...table(['KEY', 'GROUP', 'HANDLER', 'DEPS', 'DESCRIPTION'], doc.assets.map((a) => [a.key, a.group, a.handler, a.deps.join(', ') || '-', a.description ?? ''])));
  if (doc.jobs.length > 0) {
    out.push('', `Jobs (${doc.jobs.length})`);
    out.push(...table(['NAME', 'ASSETS', 'SELECTION'], doc.jobs.map((j) => [j.name, String(j.assets.length), j.select])));
  }
  if (doc.schedules.length > 0) {
    out.push('', `Schedules (${doc.schedules.length})`);
    out.push(...table(['NAME', 'CRON', 'TIMEZONE', 'RUNS', 'DEFAULT', 'NEXT TICK'], doc.schedules.map((s) => [s.name, s.cron, s.timezone, s.job ? `job ${s.job}` : `select ${s.select}`, s.default_status, s.next_tick ?? '-'])));
  }
  if (doc.notifications.length > 0) {
    out.push('', `Notifications (${doc.notifications.length})`);
    out.push(...table(['NAME', 'ON', 'CHANNEL'], doc.notifications.map((n) => [n.name, n.on.join(', '), n.channel])));
  }
  if (doc.watchers.length > 0) {
    out.push('', `Watchers (${doc.watchers.length})`);
    out.push(...table(['NAME', 'DAGSTER', 'NOTIFY', 'DEFAULT'], doc.watchers.map((w) => [w.name, w.dagster_url, w.notify.join(', '), w.default_status])));
  }
  process.stdout.write(out.join('\n') + '\n');
}

/** Left-aligned columns; the last column is not padded. */
export function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}
