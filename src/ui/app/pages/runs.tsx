/** Runs: the newest first, 100 a page, filtered by status, trigger, asset and date (the filters live in the address, so they can be shared). */
import { withQuery } from '../api.js';
import { useJson, useNow } from '../hooks.js';
import { ErrorBox, Loading, Status, Time } from '../components.js';
import { Link, navigate, type Location } from '../router.js';
import { elapsed, shortId, stepCounts } from '../format.js';
import type { GraphDoc, RunRecord } from '../types.js';

/** `GET /api/runs`: a page of runs. */
interface RunsDoc {
  runs: RunRecord[];
  total: number;
  offset: number;
  next_offset: number | null;
}

const RUN_STATUSES = ['queued', 'started', 'success', 'failure', 'canceled'];

/** `manual`, `retry of ID` with a link to that run, or `schedule NAME` with a link to the schedules page. */
export function RunTrigger({ run }: { run: RunRecord }) {
  if (run.trigger.type === 'manual') return <span>manual</span>;
  if (run.trigger.type === 'retry') return <span>retry of <Link href={`/runs/${run.trigger.retry_of}`}>{shortId(run.trigger.retry_of)}</Link></span>;
  return (
    <span title={`tick ${run.trigger.tick}`}>
      schedule <Link href="/schedules">{run.trigger.schedule}</Link>
    </span>
  );
}

/** The most cells a strip draws; the rest are counted. */
const STRIP_MAX = 48;

/** Step statuses as small coloured cells, one per step (wrapping; at most {@link STRIP_MAX}, then `+N`). */
export function StepStrip({ run }: { run: RunRecord }) {
  const shown = run.steps.slice(0, STRIP_MAX);
  return (
    <span class="strip" aria-label={stepCounts(run.steps)} title={stepCounts(run.steps)}>
      {shown.map((s) => (
        <span class={`cell status-${s.status}`} title={`${s.key}: ${s.status}`} />
      ))}
      {run.steps.length > shown.length && <span class="more">+{run.steps.length - shown.length}</span>}
    </span>
  );
}

/** Runs per page. */
const PAGE_SIZE = 100;

/** A local calendar date (`2024-05-01`) as the ISO time of its midnight in the browser's zone; `next` gives the following midnight. */
function dayStart(date: string, next = false): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (next ? 1 : 0)).toISOString();
}

export function RunsPage({ loc }: { loc: Location }) {
  const status = loc.query.get('status') ?? '';
  const trigger = loc.query.get('trigger') ?? '';
  const asset = loc.query.get('asset') ?? '';
  const from = loc.query.get('from') ?? '';
  const to = loc.query.get('to') ?? '';
  const page = Math.max(1, Number(loc.query.get('page') ?? '1') || 1);
  const offset = (page - 1) * PAGE_SIZE;
  const runs = useJson<RunsDoc>(
    withQuery('/api/runs', { status, trigger, asset, since: dayStart(from), until: dayStart(to, true), limit: String(PAGE_SIZE), offset: String(offset) }),
    3000,
  );
  const triggers = useJson<{ schedules: string[] }>('/api/triggers');
  const graph = useJson<GraphDoc>('/api/graph');
  const now = useNow(1000);
  const set = (k: string, v: string) => {
    const q = new URLSearchParams(loc.query);
    if (v) q.set(k, v);
    else q.delete(k);
    if (k !== 'page') q.delete('page');
    const s = q.toString();
    navigate(s ? `/runs?${s}` : '/runs', { replace: true });
  };
  return (
    <div class="page runs-page">
      <header class="page-head">
        <h1>Runs</h1>
        <Link class="button" href="/launch">
          Launch a run…
        </Link>
      </header>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select name="status" value={status} onChange={(e) => set('status', (e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            {RUN_STATUSES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Trigger
          <select name="trigger" value={trigger} onChange={(e) => set('trigger', (e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            <option value="manual">manual</option>
            <option value="schedule">any schedule</option>
            {(triggers.data?.schedules ?? []).map((s) => (
              <option value={s}>schedule {s}</option>
            ))}
          </select>
        </label>
        <label>
          Asset
          <select name="asset" value={asset} onChange={(e) => set('asset', (e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            {(graph.data?.nodes ?? []).map((n) => (
              <option value={n.key}>{n.key}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" name="from" value={from} max={to || undefined} onChange={(e) => set('from', (e.target as HTMLInputElement).value)} />
        </label>
        <label>
          To
          <input type="date" name="to" value={to} min={from || undefined} onChange={(e) => set('to', (e.target as HTMLInputElement).value)} />
        </label>
        {(from || to) && (
          <button type="button" class="link" onClick={() => navigate(withQuery('/runs', { status, trigger, asset }), { replace: true })}>
            any date
          </button>
        )}
      </form>
      <ErrorBox error={runs.error} />
      {!runs.data ? (
        <Loading />
      ) : runs.data.runs.length === 0 ? (
        <p class="muted empty">No runs{status || trigger || asset || from || to ? ' match these filters' : ' yet'}{page > 1 ? ' on this page' : ''}.</p>
      ) : (
        <div class="panel table-scroll">
          <table class="runs-table">
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th>Trigger</th>
                <th>Env</th>
                <th>Job / selection</th>
                <th>Started</th>
                <th>Duration</th>
                <th>Steps</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.runs.map((r) => (
                <tr key={r.id} data-run={r.id} data-status={r.status}>
                  <td class="mono">
                    <Link href={`/runs/${r.id}`}>{shortId(r.id)}</Link>
                  </td>
                  <td>
                    <Status status={r.status} />
                  </td>
                  <td>
                    <RunTrigger run={r} />
                  </td>
                  <td>{r.env}</td>
                  <td class="mono small ellipsis" title={r.selection}>
                    {r.job ?? r.selection}
                  </td>
                  <td>
                    <Time iso={r.started_at} now={now} />
                  </td>
                  <td>{elapsed(r.started_at, r.ended_at, now)}</td>
                  <td>
                    <StepStrip run={r} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="pager" data-role="pager">
            <span class="muted small" data-role="range">
              runs {offset + 1}–{offset + runs.data.runs.length} of {runs.data.total}
            </span>
            {page > 1 && (
              <button type="button" class="secondary" data-action="newer" onClick={() => set('page', page === 2 ? '' : String(page - 1))}>
                ← Newer
              </button>
            )}
            {runs.data.next_offset !== null && (
              <button type="button" class="secondary" data-action="older" onClick={() => set('page', String(page + 1))}>
                Older →
              </button>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
