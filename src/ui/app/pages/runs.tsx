/** Runs: the newest first, filtered by status, trigger and asset (the filters live in the address, so they can be shared). */
import { withQuery } from '../api.js';
import { useJson, useNow } from '../hooks.js';
import { ErrorBox, Loading, Status, Time } from '../components.js';
import { Link, navigate, type Location } from '../router.js';
import { elapsed, shortId } from '../format.js';
import type { GraphDoc, RunRecord } from '../types.js';

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

/** Step statuses as a row of small coloured cells, one per step. */
export function StepStrip({ run }: { run: RunRecord }) {
  return (
    <span class="strip" aria-label={run.steps.map((s) => `${s.key}: ${s.status}`).join(', ')}>
      {run.steps.map((s) => (
        <span class={`cell status-${s.status}`} title={`${s.key}: ${s.status}`} />
      ))}
    </span>
  );
}

export function RunsPage({ loc }: { loc: Location }) {
  const status = loc.query.get('status') ?? '';
  const trigger = loc.query.get('trigger') ?? '';
  const asset = loc.query.get('asset') ?? '';
  const runs = useJson<{ runs: RunRecord[] }>(withQuery('/api/runs', { status, trigger, asset, limit: '100' }), 3000);
  const triggers = useJson<{ schedules: string[] }>('/api/triggers');
  const graph = useJson<GraphDoc>('/api/graph');
  const now = useNow(1000);
  const set = (k: string, v: string) => {
    const q = new URLSearchParams(loc.query);
    if (v) q.set(k, v);
    else q.delete(k);
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
      </form>
      <ErrorBox error={runs.error} />
      {!runs.data ? (
        <Loading />
      ) : runs.data.runs.length === 0 ? (
        <p class="muted empty">No runs{status || trigger || asset ? ' match these filters' : ' yet'}.</p>
      ) : (
        <div class="panel">
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
        </div>
      )}
    </div>
  );
}
