/**
 * One run: its steps on a timeline (start, end, status, attempts; sorted and filtered),
 * the selected step's details and log, streamed live over server-sent events while the
 * run goes on, one log of all steps, the failure messages (once each) and whether the
 * alert went out; buttons to cancel it (after a confirmation) and to re-run its failed steps.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, assetPath, postJson, withQuery } from '../api.js';
import { useNow } from '../hooks.js';
import { ErrorBox, Loading, LocalTime, Panel, Status, Time } from '../components.js';
import { Link, navigate, type Location } from '../router.js';
import { elapsed, stepCounts } from '../format.js';
import type { AlertRecord, RunRecord, StepRecord } from '../types.js';
import { RunTrigger } from './runs.js';
import { AllStepsLog, StepLog, useRunStream, type StreamState } from './run-logs.js';
import { stripAnsi } from '../ansi.js';
import { Timeline, TimelineControls, orderSteps, type StepOrder } from './run-timeline.js';

const FINISHED = new Set(['success', 'failure', 'canceled']);

function defaultStep(run: RunRecord): string | undefined {
  return (run.steps.find((s) => s.status === 'failure') ?? run.steps.find((s) => s.status === 'running') ?? run.steps[0])?.key;
}

function AlertLine({ run }: { run: RunRecord }) {
  const a: AlertRecord | null = run.alert;
  if (!a) {
    if (run.status === 'failure') return <span class="muted">not recorded (yet)</span>;
    return <span class="muted">-</span>;
  }
  if (a.status === 'sent') return <span class="good">sent {a.at && <Time iso={a.at} />}</span>;
  if (a.status === 'failed') return <span class="bad">delivery failed{a.detail ? `: ${a.detail}` : ''}</span>;
  if (a.status === 'printed') return <span>printed to the runner's log (no webhook configured)</span>;
  return <span class="muted">none (no notification applies)</span>;
}

function Metadata({ metadata }: { metadata: Record<string, unknown> | null }) {
  if (!metadata) return null;
  const scalar = Object.entries(metadata).filter(([, v]) => v === null || typeof v !== 'object');
  const nested = Object.entries(metadata).filter(([, v]) => v !== null && typeof v === 'object');
  return (
    <dl class="facts metadata">
      {scalar.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{v === null ? '-' : String(v)}</dd>
        </>
      ))}
      {nested.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>
            <details>
              <summary class="muted small">{Array.isArray(v) ? `${v.length} item${v.length === 1 ? '' : 's'}` : 'object'}</summary>
              <pre class="code small">{JSON.stringify(v, null, 2)}</pre>
            </details>
          </dd>
        </>
      ))}
    </dl>
  );
}

function StepPanel({ run, step, stream }: { run: RunRecord; step: StepRecord; stream: StreamState }) {
  const empty = step.status === 'pending' ? 'Waiting to start…' : step.status === 'skipped' || step.status === 'canceled' ? 'This step did not run.' : '';
  return (
    <>
      <dl class="facts inline">
        <dt>Attempts</dt>
        <dd data-role="attempts">{step.attempts}</dd>
        <dt>Started</dt>
        <dd>
          <LocalTime iso={step.started_at} />
        </dd>
        <dt>Ended</dt>
        <dd>
          <LocalTime iso={step.ended_at} />
        </dd>
        <dt>Exit code</dt>
        <dd>{step.exit_code ?? '-'}</dd>
      </dl>
      {/* A failed step's message is in the box at the top (shown once); a skip or cancel reason is only here. */}
      {step.error && step.status !== 'failure' && (
        <pre class="error-box step-error" data-role="step-error">
          {stripAnsi(step.error)}
        </pre>
      )}
      <Metadata metadata={step.metadata} />
      <div class="log-head">
        <h3>
          Log {stream.live && !FINISHED.has(run.status) && <span class="live">● live</span>}
        </h3>
        <a href={`/api/runs/${run.id}/log/${step.key.split('/').map(encodeURIComponent).join('/')}`} target="_blank" rel="noopener">
          full log
        </a>
      </div>
      <StepLog stepKey={step.key} stream={stream} empty={empty} />
    </>
  );
}

/** The run's error and each distinct failure message once: its first line, the rest on request; steps failing the same way share it. */
function FailureBox({ run, onPick }: { run: RunRecord; onPick: (key: string) => void }) {
  // Grouped by the message's first line: ten steps failing the same way show it once.
  const byMessage = new Map<string, StepRecord[]>();
  for (const s of run.steps) {
    if (s.status !== 'failure') continue;
    const first = stripAnsi(s.error ?? '').split('\n')[0] ?? '';
    (byMessage.get(first) ?? byMessage.set(first, []).get(first)!).push(s);
  }
  return (
    <div class="error-box run-error" role="alert" data-role="run-error">
      <strong>{run.status === 'canceled' ? 'Canceled' : 'Failed'}:</strong> {run.error}
      {[...byMessage].map(([message, steps]) => (
        <div class="failure" data-key={steps[0]!.key} data-steps={steps.length}>
          <p>
            {steps.slice(0, 5).map((s, i) => (
              <>
                {i > 0 && ', '}
                <button type="button" class="link mono" onClick={() => onPick(s.key)} title="show this step">
                  {s.key}
                </button>
              </>
            ))}
            {steps.length > 5 && ` and ${steps.length - 5} more`} failed
            {steps.length === 1 && steps[0]!.attempts > 1 ? ` after ${steps[0]!.attempts} attempts` : ''}:
          </p>
          <pre class="failure-line">{message}</pre>
          {(steps[0]!.error ?? '').includes('\n') && (
            <details>
              <summary class="small">the whole message{steps.length > 1 ? ` (of ${steps[0]!.key})` : ''}</summary>
              <pre>{stripAnsi(steps[0]!.error ?? '').split('\n').slice(1).join('\n')}</pre>
            </details>
          )}
        </div>
      ))}
    </div>
  );
}

/** The run page; the shown step (`?step=KEY`) and the all-steps log (`?logs=all`) live in the address, so a link opens them. */
export function RunPage({ runId, loc }: { runId: string; loc: Location }) {
  const [run, setRun] = useState<RunRecord | undefined>(undefined);
  const picked = loc.query.get('step') ?? undefined;
  const view: 'step' | 'all' = loc.query.get('logs') === 'all' ? 'all' : 'step';
  const show = (step: string | undefined, logs: 'step' | 'all') =>
    navigate(withQuery(`/runs/${encodeURIComponent(runId)}`, { step, logs: logs === 'all' ? 'all' : undefined }), { replace: true });
  const setView = (v: 'step' | 'all') => show(picked, v);
  const [order, setOrder] = useState<StepOrder>('plan');
  const [statusFilter, setStatusFilter] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);
  const finished = run ? FINISHED.has(run.status) : false;
  const now = useNow(1000, !finished);
  const key = picked ?? (run ? defaultStep(run) : undefined);
  const stream = useRunStream(runId, key, setRun);
  useEffect(() => {
    setRun(undefined);
    setConfirming(false);
  }, [runId]);

  if (!run) return stream.error ? <ErrorBox error={stream.error} /> : <Loading />;
  const step = run.steps.find((s) => s.key === key);
  const fail = (e: unknown) => setActionError(e instanceof ApiError ? e : new ApiError(0, String(e)));
  const cancel = () => {
    setActionError(undefined);
    setConfirming(false);
    postJson(`/api/runs/${run.id}/cancel`).catch(fail);
  };
  const retry = () => {
    setActionError(undefined);
    setBusy(true);
    postJson<{ run_id: string }>(`/api/runs/${run.id}/retry`)
      .then((r) => navigate(`/runs/${r.run_id}`))
      .catch(fail)
      .finally(() => setBusy(false));
  };
  const pick = (k: string) => show(k, 'step');
  const shown = orderSteps(run.steps, order, statusFilter);
  return (
    <div class="page run-page" data-run={run.id} data-status={run.status}>
      <header class="page-head">
        <div>
          <p class="crumbs">
            <Link href="/runs">Runs</Link> /
          </p>
          <h1>
            Run <span class="mono run-id">{run.id}</span> <Status status={run.status} />
          </h1>
        </div>
        <div class="actions">
          {!finished &&
            (confirming ? (
              <span class="confirm" role="group" aria-label="confirm cancel">
                <span>Cancel this run? Running steps are stopped.</span>
                <button type="button" class="danger" data-action="confirm-cancel" onClick={cancel}>
                  Yes, cancel it
                </button>
                <button type="button" class="secondary" data-action="keep-running" onClick={() => setConfirming(false)}>
                  Keep running
                </button>
              </span>
            ) : (
              <button type="button" class="danger" data-action="cancel" onClick={() => setConfirming(true)}>
                Cancel run…
              </button>
            ))}
          {finished && run.status !== 'success' && (
            <button type="button" class="primary" data-action="retry" disabled={busy} onClick={retry} title="start a new run of the steps that did not succeed">
              Re-run failed
            </button>
          )}
          <Link class="button secondary" href={withQuery('/launch', run.job ? { job: run.job } : { select: run.selection })}>
            Re-run all…
          </Link>
        </div>
      </header>
      <ErrorBox error={actionError} />
      {run.error && <FailureBox run={run} onPick={pick} />}
      <Panel class="summary">
        <dl class="facts inline">
          <dt>Trigger</dt>
          <dd>
            <RunTrigger run={run} />
          </dd>
          <dt>Environment</dt>
          <dd>{run.env}</dd>
          {run.job && (
            <>
              <dt>Job</dt>
              <dd>{run.job}</dd>
            </>
          )}
          <dt>Selection</dt>
          <dd class="mono">{run.selection}</dd>
          <dt>Started</dt>
          <dd>
            <LocalTime iso={run.started_at} />
          </dd>
          <dt>Duration</dt>
          <dd>{elapsed(run.started_at, run.ended_at, now)}</dd>
          <dt>Steps</dt>
          <dd>{stepCounts(run.steps)}</dd>
          <dt>Alert</dt>
          <dd data-role="alert">
            <AlertLine run={run} />
          </dd>
        </dl>
      </Panel>
      <div class="run-body">
        <Panel class="timeline-panel" title={<>Timeline <span class="count">{run.steps.length} step{run.steps.length === 1 ? '' : 's'}</span></>}>
          <TimelineControls run={run} order={order} status={statusFilter} onOrder={setOrder} onStatus={setStatusFilter} />
          <Timeline run={run} steps={shown} now={now} selected={view === 'step' ? key : undefined} onSelect={pick} />
        </Panel>
        <Panel class="step-panel">
          <div class="tabs log-tabs" role="tablist">
            <button type="button" role="tab" aria-selected={view === 'step'} class={view === 'step' ? 'active' : ''} data-view="step" onClick={() => setView('step')}>
              {step ? (
                <>
                  <Status status={step.status} /> <span class="mono">{step.key}</span>
                </>
              ) : (
                'Step'
              )}
            </button>
            <button type="button" role="tab" aria-selected={view === 'all'} class={view === 'all' ? 'active' : ''} data-view="all" onClick={() => setView('all')}>
              All steps
            </button>
            {step && view === 'step' && (
              <Link class="asset-link small" href={assetPath('/assets', step.key)}>
                asset page
              </Link>
            )}
          </div>
          {view === 'all' ? <AllStepsLog run={run} onPick={pick} /> : step ? <StepPanel run={run} step={step} stream={stream} /> : <p class="muted">This run has no steps.</p>}
        </Panel>
      </div>
    </div>
  );
}
