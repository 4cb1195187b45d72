/** Human views of recorded runs: the `runner runs` table and the `runner show` page. */
import { formatDuration } from '../util/duration.js';
import type { RunRecord, StepRecord, StepStatus } from './types.js';

const STEP_ORDER_FOR_SUMMARY: StepStatus[] = ['success', 'failure', 'skipped', 'canceled', 'running', 'pending'];

/** How to print: colours only on a terminal without NO_COLOR; `now` for durations of unfinished runs. */
export interface ViewOptions {
  color: boolean;
  now: number;
}

const CODES: Record<string, string> = {
  success: '32',
  failure: '31',
  canceled: '33',
  skipped: '90',
  running: '36',
  started: '36',
  queued: '90',
  pending: '90',
};

function paint(o: ViewOptions, status: string, text = status): string {
  const code = CODES[status];
  return o.color && code ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function dim(o: ViewOptions, text: string): string {
  return o.color ? `\x1b[2m${text}\x1b[22m` : text;
}

/** `2024-05-01 12:00:03` in local time, or `-`. */
export function localTime(iso: string | null): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Elapsed time between two ISO times (to `now` when not ended), or `-` when not started. */
export function elapsed(start: string | null, end: string | null, now: number): string {
  if (!start) return '-';
  const ms = (end ? Date.parse(end) : now) - Date.parse(start);
  return Number.isFinite(ms) ? formatDuration(Math.max(0, ms)) : '-';
}

/** `manual`, `schedule NAME`, or `retry of ID` (the short id unless `full`). */
export function triggerText(run: RunRecord, full = false): string {
  const t = run.trigger;
  if (t.type === 'manual') return 'manual';
  if (t.type === 'retry') return `retry of ${full ? t.retry_of : t.retry_of.slice(0, 8)}`;
  return full ? `schedule ${t.schedule}, tick ${localTime(t.tick)}` : `schedule ${t.schedule}`;
}

/** `3 success, 1 failure, 2 skipped`: step counts by status. */
export function stepSummary(steps: StepRecord[], o?: ViewOptions): string {
  const counts = new Map<string, number>();
  for (const s of steps) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  const parts = STEP_ORDER_FOR_SUMMARY.filter((s) => counts.has(s)).map((s) => {
    const text = `${counts.get(s)} ${s}`;
    return o ? paint(o, s, text) : text;
  });
  return parts.length > 0 ? parts.join(', ') : 'no steps';
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, width - 1) + '…';
}

/** The `runner runs` table. */
export function formatRunsTable(runs: RunRecord[], o: ViewOptions): string {
  const header = ['ID', 'STATUS', 'TRIGGER', 'ENV', 'JOB / SELECTION', 'STARTED', 'DURATION', 'STEPS'];
  const rows = runs.map((r) => [
    r.id.slice(0, 8),
    r.status,
    truncate(triggerText(r), 28),
    r.env,
    truncate(r.job ?? r.selection, 36),
    localTime(r.started_at),
    elapsed(r.started_at, r.ended_at, o.now),
    stepSummary(r.steps, o),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[], colorStatus: boolean): string =>
    cells
      .map((c, i) => {
        if (i === cells.length - 1) return c;
        const padded = c.padEnd(widths[i]!);
        return colorStatus && i === 1 ? paint(o, c, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [dim(o, line(header, false)), ...rows.map((r) => line(r, true))].join('\n') + '\n';
}

function metadataLines(meta: Record<string, unknown>): string[] {
  return Object.entries(meta).map(([k, v]) => {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return `${k}: ${truncate(text ?? 'null', 200)}`;
  });
}

/** What became of the run's alert, in words. */
export function alertText(run: RunRecord): string {
  const a = run.alert;
  if (!a) return run.status === 'failure' ? 'not sent' : '-';
  const at = a.at ? ` at ${localTime(a.at)}` : '';
  switch (a.status) {
    case 'sent':
      return `sent${at}${a.detail ? ` (${a.detail})` : ''}`;
    case 'failed':
      return `delivery failed${at}${a.detail ? `: ${a.detail}` : ''}`;
    case 'printed':
      return `printed to the console only${at}${a.detail ? ` (${a.detail})` : ''}`;
    case 'none':
      return `none${a.detail ? ` (${a.detail})` : ' (no notification applies)'}`;
  }
}

/** The `runner show` page: the run (and the runs that retried it), then each step with its metadata, error and log. */
export function formatRun(run: RunRecord, o: ViewOptions, retries: ReadonlyArray<{ id: string; status: string }> = []): string {
  const out: string[] = [];
  out.push(`Run ${run.id}  ${paint(o, run.status)}`);
  const field = (name: string, value: string): void => {
    out.push(`  ${name.padEnd(10)}${value}`);
  };
  field('trigger', triggerText(run, true));
  field('env', run.env);
  if (run.job) field('job', run.job);
  field('selection', run.selection);
  field('started', localTime(run.started_at));
  field('ended', run.ended_at ? `${localTime(run.ended_at)} (${elapsed(run.started_at, run.ended_at, o.now)})` : `- (running for ${elapsed(run.started_at, null, o.now)})`);
  field('steps', stepSummary(run.steps, o));
  if (run.error) field('error', run.error);
  field('alert', alertText(run));
  if (retries.length > 0) field('retried', retries.map((r) => `${r.id.slice(0, 8)} (${paint(o, r.status)})`).join(', '));
  out.push('');
  const keyWidth = Math.min(60, Math.max(0, ...run.steps.map((s) => s.key.length)));
  for (const s of run.steps) {
    const attempts = s.attempts === 1 ? '1 attempt ' : `${s.attempts} attempts`;
    const exit = s.exit_code === null ? '' : `  exit ${s.exit_code}`;
    out.push(`  ${paint(o, s.status, s.status.padEnd(8))}  ${s.key.padEnd(keyWidth)}  ${attempts.padEnd(10)}  ${elapsed(s.started_at, s.ended_at, o.now).padStart(8)}${exit}`);
    const details: string[] = [];
    if (s.error) details.push(...s.error.split('\n').map((l, i) => (i === 0 ? `error: ${l}` : `       ${l}`)));
    if (s.metadata) details.push(...metadataLines(s.metadata));
    if (s.attempts > 0) details.push(`log: ${s.log}`);
    for (const d of details) out.push(`      ${d}`);
  }
  return out.join('\n') + '\n';
}
