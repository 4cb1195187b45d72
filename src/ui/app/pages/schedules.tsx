/** Schedules: status with a start/stop switch, the cron in words, the next ticks in the schedule's time zone, the tick history. */
import { useState } from 'preact/hooks';
import { ApiError, postJson, withQuery } from '../api.js';
import { useJson } from '../hooks.js';
import { ErrorBox, Loading, Status, Time } from '../components.js';
import { Link } from '../router.js';
import { cronToWords } from '../cron-words.js';
import { shortId } from '../format.js';
import type { ScheduleEntry, TickEntry } from '../types.js';

/** `2024-03-10T03:00:00-04:00` → `2024-03-10 03:00 (-04:00)`; `Z` shows as UTC. */
function wallClock(local: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})$/.exec(local);
  if (!m) return local;
  const secs = m[3] && m[3] !== '00' ? `:${m[3]}` : '';
  return `${m[1]} ${m[2]}${secs} ${m[4] === 'Z' ? 'UTC' : `(${m[4]})`}`;
}

function TickOutcome({ t }: { t: TickEntry }) {
  if (t.outcome === 'started' && t.run_id) {
    return (
      <>
        started run <Link href={`/runs/${t.run_id}`}>{shortId(t.run_id)}</Link> {t.run_status && <Status status={t.run_status} />}
      </>
    );
  }
  return (
    <>
      <span class={`badge outcome-${t.outcome}`}>{t.outcome}</span> {t.reason && <span class="muted">{t.reason}</span>}
    </>
  );
}

function History({ name }: { name: string }) {
  const h = useJson<{ ticks: TickEntry[]; timezone: string }>(withQuery(`/api/schedules/${encodeURIComponent(name)}/history`, { limit: '25' }), 5000);
  if (h.error) return <ErrorBox error={h.error} />;
  if (!h.data) return <Loading />;
  if (h.data.ticks.length === 0) return <p class="muted">No ticks recorded yet.</p>;
  return (
    <div class="table-scroll">
    <table class="history">
      <thead>
        <tr>
          <th>Tick ({h.data.timezone})</th>
          <th>Outcome</th>
        </tr>
      </thead>
      <tbody>
        {h.data.ticks.map((t) => (
          <tr key={t.time}>
            <td class="mono small">{wallClock(t.local)}</td>
            <td>
              <TickOutcome t={t} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
    </div>
  );
}

function ScheduleCard({ s, onChanged }: { s: ScheduleEntry; onChanged: (s: ScheduleEntry) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [open, setOpen] = useState(false);
  const running = s.status === 'running';
  const words = cronToWords(s.cron);
  const toggle = () => {
    setBusy(true);
    setError(undefined);
    postJson<{ schedule: ScheduleEntry }>(`/api/schedules/${encodeURIComponent(s.name)}/${running ? 'stop' : 'start'}`)
      .then((r) => onChanged(r.schedule))
      .catch((e: unknown) => setError(e instanceof ApiError ? e : new ApiError(0, String(e))))
      .finally(() => setBusy(false));
  };
  return (
    <section class={`panel schedule status-${s.status}`} data-schedule={s.name} data-status={s.status}>
      <header class="schedule-head">
        <button
          type="button"
          role="switch"
          class={`switch${running ? ' on' : ''}`}
          aria-checked={running}
          aria-label={`${running ? 'stop' : 'start'} schedule ${s.name}`}
          disabled={busy}
          onClick={toggle}
          data-schedule={s.name}
        >
          <span class="knob" />
        </button>
        <div>
          <h2 class="mono">{s.name}</h2>
          <p class="muted small">
            <span class="schedule-status">{s.status}</span>
            {s.status_source === 'default' ? ' (its default status)' : <> (set <Time iso={s.status_changed_at} />)</>}
          </p>
        </div>
      </header>
      <ErrorBox error={error} />
      {s.description && <p>{s.description}</p>}
      <dl class="facts">
        <dt>When</dt>
        <dd>
          <span class="cron-words">{words ? `${words} (${s.timezone})` : `cron in ${s.timezone}`}</span> <code class="cron">{s.cron}</code>
        </dd>
        <dt>Runs</dt>
        <dd>
          {s.job ? (
            <>
              job <Link href={withQuery('/launch', { job: s.job })}>{s.job}</Link>
            </>
          ) : (
            <Link href={withQuery('/assets', { select: s.select ?? '' })} class="mono">
              {s.select}
            </Link>
          )}
          {s.env && <span class="muted"> in environment {s.env}</span>}
        </dd>
        <dt>Next ticks</dt>
        <dd>
          <ul class="ticks">
            {s.next_ticks.map((t) => (
              <li class="mono small" title={t.time}>
                {wallClock(t.local)}
              </li>
            ))}
          </ul>
          {!running && <span class="muted small">(if started)</span>}
        </dd>
        <dt>Policy</dt>
        <dd class="small">
          overlap {s.overlap}; missed ticks: {s.catchup.policy}
          {s.catchup.policy === 'all' && s.catchup.max !== undefined ? ` (up to ${s.catchup.max})` : ''}
        </dd>
        <dt>Last tick</dt>
        <dd>
          {s.last_tick ? (
            <>
              <span class="mono small">{wallClock(s.last_tick.local)}</span> <TickOutcome t={s.last_tick} />
            </>
          ) : (
            <span class="muted">none yet</span>
          )}
        </dd>
      </dl>
      <button type="button" class="link" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? '▾' : '▸'} Tick history
      </button>
      {open && <History name={s.name} />}
    </section>
  );
}

export function SchedulesPage() {
  const doc = useJson<{ schedules: ScheduleEntry[] }>('/api/schedules', 5000);
  const [overrides, setOverrides] = useState<Record<string, ScheduleEntry>>({});
  if (doc.error) return <ErrorBox error={doc.error} />;
  if (!doc.data) return <Loading />;
  // A switch's answer shows at once, and only until the list is as new as it: then the
  // list's entry (its last tick, next ticks) wins again, so the card does not go stale.
  const list = doc.data.schedules.map((s) => {
    const o = overrides[s.name];
    return o && (s.status_changed_at ?? '') < (o.status_changed_at ?? '') ? o : s;
  });
  const changed = (n: ScheduleEntry) => {
    setOverrides((o) => ({ ...o, [n.name]: n }));
    doc.reload();
  };
  return (
    <div class="page schedules-page">
      <header class="page-head">
        <h1>
          Schedules <span class="count">{list.length}</span>
        </h1>
      </header>
      {list.length === 0 && <p class="muted empty">No schedules are defined.</p>}
      <div class="schedules">
        {list.map((s) => (
          <ScheduleCard key={s.name} s={s} onChanged={changed} />
        ))}
      </div>
    </div>
  );
}
