/**
 * One run: its steps on a timeline (start, end, status, attempts), the selected step's
 * details and log, streamed live over server-sent events while the run goes on, the
 * failure message and whether the alert went out.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, assetPath, getJson, postJson, withQuery } from '../api.js';
import { useNow } from '../hooks.js';
import { ErrorBox, Loading, Panel, Status, Time } from '../components.js';
import { Link } from '../router.js';
import { elapsed, localTime, stepCounts } from '../format.js';
import type { AlertRecord, RunRecord, StepRecord } from '../types.js';
import { RunTrigger } from './runs.js';

const FINISHED = new Set(['success', 'failure', 'canceled']);
/** The most log text kept in the page; older text is dropped (the full log is a link away). */
const MAX_LOG = 2 * 1024 * 1024;

/** The first `n` lines of a message, with `…` when there are more (the whole message is in the step panel). */
function firstLines(text: string, n: number): string {
  const lines = text.split('\n');
  return lines.length <= n ? text : [...lines.slice(0, n), '…'].join('\n');
}

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

/** The steps on a timeline from the run's start to its end (or now). */
function Timeline(props: { run: RunRecord; now: number; selected?: string; onSelect: (key: string) => void }) {
  const { run, now } = props;
  const starts = run.steps.map((s) => (s.started_at ? Date.parse(s.started_at) : NaN)).filter((t) => !Number.isNaN(t));
  const t0 = run.started_at ? Date.parse(run.started_at) : starts.length ? Math.min(...starts) : now;
  const t1 = Math.max(t0 + 1000, run.ended_at ? Date.parse(run.ended_at) : now);
  const pct = (t: number) => `${(Math.max(0, Math.min(1, (t - t0) / (t1 - t0))) * 100).toFixed(3)}%`;
  return (
    <div class="timeline" role="list">
      <div class="tl-axis">
        <div class="ends">
          <span>{localTime(new Date(t0).toISOString())}</span>
          <span>{run.ended_at ? localTime(run.ended_at) : 'now'}</span>
        </div>
      </div>
      {run.steps.map((s) => {
        const a = s.started_at ? Date.parse(s.started_at) : undefined;
        const b = s.ended_at ? Date.parse(s.ended_at) : s.status === 'running' ? now : undefined;
        return (
          <div
            role="listitem"
            class={`tl-row${props.selected === s.key ? ' active' : ''}`}
            data-key={s.key}
            data-status={s.status}
            onClick={() => props.onSelect(s.key)}
            tabIndex={0}
            onKeyDown={(e) => e.key === 'Enter' && props.onSelect(s.key)}
          >
            <div class="tl-label">
              <Status status={s.status} /> <span class="mono">{s.key}</span>
            </div>
            <div class="tl-track">
              {a !== undefined && b !== undefined ? (
                <div class={`tl-bar status-${s.status}`} style={{ left: pct(a), width: `max(3px, calc(${pct(b)} - ${pct(a)}))` }} title={`${localTime(s.started_at)} → ${s.ended_at ? localTime(s.ended_at) : 'now'}`} />
              ) : (
                <div class="tl-none muted small">{s.status === 'pending' ? 'waiting' : 'did not run'}</div>
              )}
            </div>
            <div class="tl-meta small">
              {elapsed(s.started_at, s.ended_at, now)}
              {s.attempts > 1 && <span class="attempts"> · {s.attempts} attempts</span>}
            </div>
          </div>
        );
      })}
    </div>
  );
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

/** A step's log, following the run's event stream. */
function useRunStream(runId: string, key: string | undefined, onRun: (r: RunRecord) => void): { log: string; truncated: boolean; live: boolean; error?: string } {
  const [state, setState] = useState({ log: '', truncated: false, live: true, error: undefined as string | undefined });
  const onRunRef = useRef(onRun);
  onRunRef.current = onRun;
  useEffect(() => {
    setState({ log: '', truncated: false, live: true, error: undefined });
    const es = new EventSource(withQuery(`/api/runs/${encodeURIComponent(runId)}/stream`, { key }));
    es.addEventListener('run', (e) => onRunRef.current(JSON.parse((e as MessageEvent<string>).data) as RunRecord));
    es.addEventListener('log', (e) => {
      const d = JSON.parse((e as MessageEvent<string>).data) as { text: string; truncated?: boolean };
      setState((s) => {
        let log = s.log + d.text;
        let truncated = s.truncated || d.truncated === true;
        if (log.length > MAX_LOG) {
          log = log.slice(log.length - MAX_LOG);
          truncated = true;
        }
        return { ...s, log, truncated };
      });
    });
    es.addEventListener('end', () => {
      es.close();
      setState((s) => ({ ...s, live: false }));
    });
    es.onerror = () => {
      // A refused or unknown run closes the stream for good: say why.
      if (es.readyState !== EventSource.CLOSED) return;
      getJson(`/api/runs/${encodeURIComponent(runId)}`).then(
        () => setState((s) => ({ ...s, live: false, error: 'the live stream closed: reload the page' })),
        (err: unknown) => setState((s) => ({ ...s, live: false, error: err instanceof Error ? err.message : String(err) })),
      );
    };
    es.addEventListener('problem', (e) => {
      es.close();
      setState((s) => ({ ...s, live: false, error: (JSON.parse((e as MessageEvent<string>).data) as { error: string }).error }));
    });
    return () => es.close();
  }, [runId, key]);
  return state;
}

function StepPanel({ run, step, stream }: { run: RunRecord; step: StepRecord; stream: ReturnType<typeof useRunStream> }) {
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  useLayoutEffect(() => {
    const el = pre.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [stream.log]);
  return (
    <Panel
      class="step-panel"
      title={
        <>
          <Status status={step.status} /> <Link href={assetPath('/assets', step.key)}>{step.key}</Link>
        </>
      }
    >
      <dl class="facts inline">
        <dt>Attempts</dt>
        <dd data-role="attempts">{step.attempts}</dd>
        <dt>Started</dt>
        <dd>{localTime(step.started_at)}</dd>
        <dt>Ended</dt>
        <dd>{localTime(step.ended_at)}</dd>
        <dt>Exit code</dt>
        <dd>{step.exit_code ?? '-'}</dd>
      </dl>
      {step.error && <pre class="error-box step-error">{step.error}</pre>}
      <Metadata metadata={step.metadata} />
      <div class="log-head">
        <h3>
          Log {stream.live && !FINISHED.has(run.status) && <span class="live">● live</span>}
        </h3>
        <a href={`/api/runs/${run.id}/log/${step.key.split('/').map(encodeURIComponent).join('/')}`} target="_blank" rel="noopener">
          full log
        </a>
      </div>
      {stream.error && <ErrorBox error={stream.error} />}
      <pre
        class="log"
        data-key={step.key}
        ref={pre}
        onScroll={(e) => {
          const el = e.currentTarget as HTMLPreElement;
          stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {stream.truncated && <span class="muted">[earlier output not shown: open the full log]{'\n'}</span>}
        {stream.log || (step.status === 'pending' ? 'Waiting to start…' : step.status === 'skipped' || step.status === 'canceled' ? 'This step did not run.' : '')}
      </pre>
    </Panel>
  );
}

export function RunPage({ runId }: { runId: string }) {
  const [run, setRun] = useState<RunRecord | undefined>(undefined);
  const [picked, setPicked] = useState<string | undefined>(undefined);
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);
  const finished = run ? FINISHED.has(run.status) : false;
  const now = useNow(1000, !finished);
  const key = picked ?? (run ? defaultStep(run) : undefined);
  const stream = useRunStream(runId, key, setRun);
  useEffect(() => {
    setPicked(undefined);
    setRun(undefined);
  }, [runId]);

  if (!run) return stream.error ? <ErrorBox error={stream.error} /> : <Loading />;
  const step = run.steps.find((s) => s.key === key);
  const cancel = () => {
    setActionError(undefined);
    postJson(`/api/runs/${run.id}/cancel`).catch((e: unknown) => setActionError(e instanceof ApiError ? e : new ApiError(0, String(e))));
  };
  return (
    <div class="page run-page" data-run={run.id} data-status={run.status}>
      <header class="page-head">
        <div>
          <p class="crumbs">
            <Link href="/runs">Runs</Link> /
          </p>
          <h1>
            Run <span class="mono">{run.id}</span> <Status status={run.status} />
          </h1>
        </div>
        <div class="actions">
          {!finished && (
            <button type="button" class="danger" onClick={cancel}>
              Cancel run
            </button>
          )}
          <Link class="button secondary" href={withQuery('/launch', run.job ? { job: run.job } : { select: run.selection })}>
            Re-run…
          </Link>
        </div>
      </header>
      <ErrorBox error={actionError} />
      {run.error && (
        <div class="error-box run-error" role="alert" data-role="run-error">
          <strong>{run.status === 'canceled' ? 'Canceled' : 'Failed'}:</strong> {run.error}
          {run.steps
            .filter((s) => s.status === 'failure')
            .map((s) => (
              <div class="failure" data-key={s.key}>
                <p>
                  <span class="mono">{s.key}</span> failed
                  {s.attempts > 1 ? ` after ${s.attempts} attempts` : ''}:
                </p>
                <pre>{firstLines(s.error ?? '', 3)}</pre>
              </div>
            ))}
        </div>
      )}
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
          <dd>{localTime(run.started_at)}</dd>
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
      <Panel title="Timeline">
        <Timeline run={run} now={now} selected={key} onSelect={setPicked} />
      </Panel>
      {step && <StepPanel run={run} step={step} stream={stream} />}
    </div>
  );
}
