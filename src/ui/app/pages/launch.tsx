/** Launch: a selection or a job, the preview of what it selects in dependency order, and a button that starts the run and opens its page. */
import { useState } from 'preact/hooks';
import { ApiError, assetPath, postJson, withQuery } from '../api.js';
import { useDebounced, useJson } from '../hooks.js';
import { ErrorBox, Loading, Panel } from '../components.js';
import { Link, navigate, type Location } from '../router.js';
import type { ListDoc, PlanDoc } from '../types.js';

export function LaunchPage({ loc }: { loc: Location }) {
  const [mode, setMode] = useState<'select' | 'job'>(loc.query.get('job') ? 'job' : 'select');
  const [text, setText] = useState(loc.query.get('select') ?? '');
  const list = useJson<ListDoc>('/api/list');
  const [job, setJob] = useState(loc.query.get('job') ?? '');
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<ApiError | undefined>(undefined);
  const expr = useDebounced(text.trim(), 250);
  const jobs = list.data?.jobs ?? [];
  const chosenJob = job || jobs[0]?.name || '';
  const planPath = mode === 'select' ? (expr ? withQuery('/api/plan', { select: expr }) : null) : chosenJob ? withQuery('/api/plan', { job: chosenJob }) : null;
  const plan = useJson<PlanDoc>(planPath);
  const ready = plan.data !== undefined && !plan.error && planPath !== null && (mode === 'job' || expr === text.trim());

  const launch = (e: Event) => {
    e.preventDefault();
    if (!ready) return;
    setStarting(true);
    setStartError(undefined);
    postJson<{ run_id: string }>('/api/runs', mode === 'select' ? { select: expr } : { job: chosenJob })
      .then((r) => navigate(`/runs/${r.run_id}`))
      .catch((err: unknown) => setStartError(err instanceof ApiError ? err : new ApiError(0, String(err))))
      .finally(() => setStarting(false));
  };

  return (
    <div class="page launch-page">
      <header class="page-head">
        <h1>Launch a run</h1>
      </header>
      <form class="panel launch-form" onSubmit={launch}>
        <div class="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === 'select'} class={mode === 'select' ? 'active' : ''} onClick={() => setMode('select')}>
            Selection
          </button>
          <button type="button" role="tab" aria-selected={mode === 'job'} class={mode === 'job' ? 'active' : ''} onClick={() => setMode('job')}>
            Job
          </button>
        </div>
        {mode === 'select' ? (
          <input
            name="select"
            type="text"
            value={text}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
            placeholder="e.g.  openmetadata/trino/*   or   +openmetadata/dbt/lineage"
            aria-label="selection expression"
            spellcheck={false}
            autocomplete="off"
            autofocus
          />
        ) : (
          <select name="job" value={chosenJob} onChange={(e) => setJob((e.target as HTMLSelectElement).value)} aria-label="job">
            {jobs.map((j) => (
              <option value={j.name}>
                {j.name} ({j.assets.length} assets){j.description ? ` · ${j.description}` : ''}
              </option>
            ))}
          </select>
        )}
        <div class="launch-bar">
          <button type="submit" class="primary" disabled={!ready || starting || (plan.data?.steps.length ?? 0) === 0}>
            {starting ? 'Starting…' : `Launch run${plan.data && ready ? ` (${plan.data.steps.length} step${plan.data.steps.length === 1 ? '' : 's'})` : ''}`}
          </button>
          {plan.data && ready && <span class="muted">in environment {plan.data.env}</span>}
        </div>
        <ErrorBox error={startError} />
      </form>
      {planPath === null ? (
        <p class="muted">Type a selection to see what it would run.</p>
      ) : plan.error ? (
        <ErrorBox error={plan.error} />
      ) : !plan.data ? (
        <Loading />
      ) : (
        <Panel title={`Preview: ${plan.data.steps.length} step${plan.data.steps.length === 1 ? '' : 's'} in dependency order`}>
          <ol class="plan" data-role="plan">
            {plan.data.steps.map((s) => (
              <li data-key={s.key}>
                <Link class="mono" href={assetPath('/assets', s.key)}>
                  {s.key}
                </Link>{' '}
                <span class="muted small">
                  {s.handler}
                  {s.upstream.length > 0 && <> · after {s.upstream.join(', ')}</>}
                </span>
              </li>
            ))}
          </ol>
        </Panel>
      )}
    </div>
  );
}
