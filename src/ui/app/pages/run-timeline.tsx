/**
 * A run's steps on a timeline from the run's start to its end (or now), in plan order or
 * by start time, filtered by status. It scrolls inside its panel, so the step panel below
 * stays a short scroll away however many steps the run has; the selected row is kept in view.
 */
import { useEffect, useRef } from 'preact/hooks';
import { Status } from '../components.js';
import { elapsed, localTime } from '../format.js';
import type { RunRecord, StepRecord } from '../types.js';
import type { StepOrder } from '../step-order.js';

export { orderSteps, type StepOrder } from '../step-order.js';

/** The order and status controls of the timeline. */
export function TimelineControls(props: { run: RunRecord; order: StepOrder; status: string; onOrder: (o: StepOrder) => void; onStatus: (s: string) => void }) {
  const counts = new Map<string, number>();
  for (const s of props.run.steps) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  return (
    <div class="filters timeline-controls">
      <label>
        Order
        <select name="order" value={props.order} onChange={(e) => props.onOrder((e.target as HTMLSelectElement).value as StepOrder)}>
          <option value="plan">plan (dependency) order</option>
          <option value="start">start time</option>
        </select>
      </label>
      <label>
        Status
        <select name="step-status" value={props.status} onChange={(e) => props.onStatus((e.target as HTMLSelectElement).value)}>
          <option value="">all ({props.run.steps.length})</option>
          {[...counts].map(([s, n]) => (
            <option value={s}>
              {s} ({n})
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

/** The rows of `steps` on the run's time axis. */
export function Timeline(props: { run: RunRecord; steps: StepRecord[]; now: number; selected?: string; onSelect: (key: string) => void }) {
  const { run, now } = props;
  const starts = run.steps.map((s) => (s.started_at ? Date.parse(s.started_at) : NaN)).filter((t) => !Number.isNaN(t));
  const t0 = run.started_at ? Date.parse(run.started_at) : starts.length ? Math.min(...starts) : now;
  const t1 = Math.max(t0 + 1000, run.ended_at ? Date.parse(run.ended_at) : now);
  const pct = (t: number) => `${(Math.max(0, Math.min(1, (t - t0) / (t1 - t0))) * 100).toFixed(3)}%`;
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    const row = el?.querySelector<HTMLElement>('.tl-row.active');
    if (el && row && (row.offsetTop < el.scrollTop || row.offsetTop + row.offsetHeight > el.scrollTop + el.clientHeight)) el.scrollTop = row.offsetTop - el.clientHeight / 3;
  }, [props.selected]);
  return (
    <div class="timeline" role="list" ref={box}>
      <div class="tl-axis">
        <div class="ends">
          {/* Times of day: the date is in the run's summary. */}
          <span>{localTime(new Date(t0).toISOString()).slice(11)}</span>
          <span>{run.ended_at ? localTime(run.ended_at).slice(11) : 'now'}</span>
        </div>
      </div>
      {props.steps.length === 0 && <p class="muted small">No step has this status.</p>}
      {props.steps.map((s) => {
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
            <div class="tl-label" title={s.key}>
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
