/**
 * Logs on the run page: the selected step's log, followed live over the run's event
 * stream, and one log of all steps merged by time (each line with its time, step and
 * stream) with a text filter. ANSI colours are drawn as coloured spans.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getJson, withQuery } from '../api.js';
import { AnsiParser, stripAnsi, type AnsiSegment } from '../ansi.js';
import { ErrorBox } from '../components.js';
import { clockTime } from '../format.js';
import type { RunRecord } from '../types.js';

/** The most log text kept in the page; older text is dropped (the full log is a link away). */
const MAX_LOG = 2 * 1024 * 1024;

/** Styled pieces of log text as spans (plain text stays a text node). */
export function AnsiText({ segments }: { segments: readonly AnsiSegment[] }) {
  return (
    <>
      {segments.map((s) =>
        s.cls === '' && !s.fg && !s.bg ? (
          s.text
        ) : (
          <span class={s.cls || undefined} style={s.fg || s.bg ? { color: s.fg, backgroundColor: s.bg } : undefined}>
            {s.text}
          </span>
        ),
      )}
    </>
  );
}

/** What {@link useRunStream} keeps: the step's log as styled segments. */
export interface StreamState {
  segments: AnsiSegment[];
  /** Characters held in `segments`. */
  size: number;
  truncated: boolean;
  live: boolean;
  error?: string;
}

/** The run (to `onRun`) and the log of step `key`, from the run's event stream. */
export function useRunStream(runId: string, key: string | undefined, onRun: (r: RunRecord) => void): StreamState {
  const [state, setState] = useState<StreamState>({ segments: [], size: 0, truncated: false, live: true });
  const onRunRef = useRef(onRun);
  onRunRef.current = onRun;
  useEffect(() => {
    setState({ segments: [], size: 0, truncated: false, live: true });
    const parser = new AnsiParser();
    const es = new EventSource(withQuery(`/api/runs/${encodeURIComponent(runId)}/stream`, { key }));
    es.addEventListener('run', (e) => onRunRef.current(JSON.parse((e as MessageEvent<string>).data) as RunRecord));
    es.addEventListener('log', (e) => {
      const d = JSON.parse((e as MessageEvent<string>).data) as { text: string; truncated?: boolean };
      const add = parser.push(d.text);
      setState((s) => {
        let segments = [...s.segments, ...add];
        let size = s.size + d.text.length;
        let truncated = s.truncated || d.truncated === true;
        while (size > MAX_LOG && segments.length > 1) {
          size -= segments[0]!.text.length;
          segments = segments.slice(1);
          truncated = true;
        }
        return { ...s, segments, size, truncated };
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

/** A `pre.log` that stays scrolled to its end while the reader is there. */
function useStickToEnd(dep: unknown): { ref: { current: HTMLPreElement | null }; onScroll: (e: Event) => void } {
  const ref = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [dep]);
  return {
    ref,
    onScroll: (e) => {
      const el = e.currentTarget as HTMLPreElement;
      stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
    },
  };
}

/** One step's log. */
export function StepLog({ stepKey, stream, empty }: { stepKey: string; stream: StreamState; empty: string }) {
  const stick = useStickToEnd(stream.segments);
  return (
    <>
      {stream.error && <ErrorBox error={stream.error} />}
      <pre class="log" data-key={stepKey} ref={stick.ref} onScroll={stick.onScroll}>
        {stream.truncated && <span class="muted">[earlier output not shown: open the full log]{'\n'}</span>}
        {stream.segments.length > 0 ? <AnsiText segments={stream.segments} /> : empty}
      </pre>
    </>
  );
}

interface MergedLine {
  ts: string | null;
  key: string;
  stream: 'stdout' | 'stderr' | null;
  line: string;
}

/** Every step's lines merged by time, reloaded every 2 s while the run goes on; `filter` keeps lines containing its text (any case). */
export function AllStepsLog({ run, onPick }: { run: RunRecord; onPick: (key: string) => void }) {
  const [doc, setDoc] = useState<{ lines: MergedLine[]; truncated: boolean } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [filter, setFilter] = useState('');
  const finished = run.status === 'success' || run.status === 'failure' || run.status === 'canceled';
  useEffect(() => {
    let live = true;
    let t: ReturnType<typeof setTimeout> | undefined;
    // The next request is sent 2 s after the last answer, never while one is in flight: a
    // slow answer for a large run does not pile requests up on the server.
    const load = (): Promise<void> =>
      getJson<{ lines: MergedLine[]; truncated: boolean }>(`/api/runs/${encodeURIComponent(run.id)}/logs`)
        .then(
          (d) => void (live && setDoc(d)),
          (e: unknown) => void (live && setError(e instanceof Error ? e.message : String(e))),
        )
        .finally(() => {
          if (live && !finished) t = setTimeout(() => void load(), 2000);
        });
    void load();
    return () => {
      live = false;
      if (t !== undefined) clearTimeout(t);
    };
  }, [run.id, finished]);
  const rows = useMemo(() => {
    const lines = doc?.lines ?? [];
    const f = filter.trim().toLowerCase();
    const parsed = lines.map((l) => ({ ...l, segments: new AnsiParser().push(l.line) }));
    return f ? parsed.filter((l) => stripAnsi(l.line).toLowerCase().includes(f) || l.key.toLowerCase().includes(f)) : parsed;
  }, [doc, filter]);
  const stick = useStickToEnd(rows);
  return (
    <>
      <div class="log-tools">
        <input type="text" name="log-filter" placeholder="filter lines, e.g. error" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} aria-label="filter log lines" />
        <span class="muted small" data-role="line-count">
          {doc ? `${rows.length} of ${doc.lines.length} lines` : ''}
          {doc?.truncated ? ' (older lines left out)' : ''}
        </span>
      </div>
      {error && <ErrorBox error={error} />}
      <pre class="log all-logs" ref={stick.ref} onScroll={stick.onScroll}>
        {!doc ? 'Loading…' : rows.length === 0 ? (doc.lines.length === 0 ? 'No step has written output yet.' : 'No line matches the filter.') : null}
        {rows.map((l) => (
          <div class={`log-line stream-${l.stream ?? 'unknown'}`} data-key={l.key} data-stream={l.stream ?? ''}>
            <span class="log-ts" title={l.ts ?? 'time unknown'}>
              {l.ts ? clockTime(l.ts) : '--:--:--.---'}
            </span>{' '}
            <button type="button" class="log-step" title={`show ${l.key}`} onClick={() => onPick(l.key)}>
              {l.key}
            </button>{' '}
            <span class="log-stream">{l.stream === 'stderr' ? 'err' : l.stream === 'stdout' ? 'out' : '   '}</span> <AnsiText segments={l.segments} />
          </div>
        ))}
      </pre>
    </>
  );
}
