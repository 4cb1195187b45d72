/** Assets: the graph coloured by each asset's last run, the table beside it, and a selection box that highlights what an expression selects. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, assetPath, getJson, withQuery } from '../api.js';
import { useJson } from '../hooks.js';
import { AssetGraph, type NodeState } from '../graph.js';
import { ErrorBox, KeyText, Loading, Status, Time } from '../components.js';
import { Link, navigate, type Location } from '../router.js';
import { count, formatDuration, recordsOf, relativeTime, shortId } from '../format.js';
import type { AssetsDoc, GraphDoc } from '../types.js';

type Asset = AssetsDoc['assets'][number];

/** Rows of the table drawn with the first graph; the rest follow a moment later. */
const FIRST_ROWS = 120;

function stateOf(a: Asset | undefined, now?: number): NodeState {
  if (!a) return { status: 'never', detail: 'never run' };
  if (a.current?.status === 'running') return { status: 'running', detail: `running · run ${shortId(a.current.run_id)}` };
  if (!a.last) return { status: a.current ? 'pending' : 'never', detail: a.current ? 'waiting in a run' : 'never run' };
  return { status: a.last.status, detail: `${a.last.status} · ${relativeTime(a.last.ended_at, now)}` };
}

export function AssetsPage({ loc }: { loc: Location }) {
  const graph = useJson<GraphDoc>('/api/graph');
  const assets = useJson<AssetsDoc>('/api/assets', 4000);
  const applied = loc.query.get('select') ?? '';
  const [text, setText] = useState(applied);
  const [selected, setSelected] = useState<Set<string> | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);

  useEffect(() => {
    setText(applied);
    setError(undefined);
    if (applied.trim() === '') {
      setSelected(undefined);
      return;
    }
    let live = true;
    getJson<{ keys: string[] }>(withQuery('/api/select', { q: applied })).then(
      (r) => live && setSelected(new Set(r.keys)),
      (e: unknown) => {
        if (!live) return;
        setSelected(undefined);
        setError(e instanceof ApiError ? e : new ApiError(0, String(e)));
      },
    );
    return () => {
      live = false;
    };
  }, [applied]);

  // A long table renders its first rows with the graph and the rest just after, so the graph shows sooner.
  const [allRows, setAllRows] = useState(false);
  useEffect(() => {
    if (allRows || !assets.data) return;
    const t = setTimeout(() => setAllRows(true), 30);
    return () => clearTimeout(t);
  }, [allRows, assets.data]);
  // The first selected row scrolls into view inside the table's panel (the graph frames the selection itself).
  const tablePanel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const panel = tablePanel.current;
    const row = panel?.querySelector<HTMLElement>('tr.selected');
    if (panel && row && (row.offsetTop < panel.scrollTop || row.offsetTop + row.offsetHeight > panel.scrollTop + panel.clientHeight)) panel.scrollTop = row.offsetTop - 40;
  }, [selected, allRows]);
  const byKey = useMemo(() => new Map((assets.data?.assets ?? []).map((a) => [a.key, a])), [assets.data]);
  // One clock per reload, so node details change (and the graph re-renders) only when the data does.
  const now = useMemo(() => Date.now(), [assets.data]);
  if (graph.error) return <ErrorBox error={graph.error} />;
  if (!graph.data || !assets.data) return <Loading />;
  const rows = assets.data.assets;
  const submit = (e: Event) => {
    e.preventDefault();
    navigate(withQuery('/assets', { select: text.trim() }), { replace: true });
  };

  return (
    <div class="page assets-page">
      <header class="page-head">
        <h1>
          Assets <span class="count">{rows.length}</span>
        </h1>
      </header>
      <form class="selection-box" onSubmit={submit}>
        <input
          name="select"
          type="text"
          value={text}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
          placeholder="selection, e.g.  openmetadata/trino/*   group:openmetadata and not kind:dbt   +openmetadata/dbt/lineage"
          aria-label="selection expression"
          spellcheck={false}
          autocomplete="off"
        />
        <button type="submit">Select</button>
        {applied && (
          <button type="button" class="secondary" onClick={() => navigate('/assets', { replace: true })}>
            Clear
          </button>
        )}
        {selected && (
          <span class="selection-count">
            {selected.size} of {rows.length} selected · <Link href={withQuery('/launch', { select: applied })}>launch these</Link>
          </span>
        )}
      </form>
      <ErrorBox error={error} />
      <div class="assets-layout">
        <div class="panel graph-panel">
          <AssetGraph graph={graph.data} state={(k) => stateOf(byKey.get(k), now)} highlight={selected} />
        </div>
        <div class="panel table-panel" ref={tablePanel}>
          <table class="assets-table">
            <thead>
              <tr>
                <th>Key</th>
                <th title="group and handler">Group</th>
                <th>Last run</th>
                <th>Duration</th>
                <th class="num" title="records processed · errors, in the last run">Records</th>
              </tr>
            </thead>
            <tbody>
              {(allRows ? rows : rows.slice(0, FIRST_ROWS)).map((a) => {
                const st = stateOf(a);
                const { records, errors } = recordsOf(a.last?.metadata);
                const cls = selected ? (selected.has(a.key) ? 'selected' : 'dimmed') : '';
                return (
                  <tr key={a.key} class={cls} data-key={a.key}>
                    <td>
                      <Link href={assetPath('/assets', a.key)}>
                        <KeyText k={a.key} />
                      </Link>
                    </td>
                    <td class="group-cell">
                      {a.group}
                      <span class="muted small handler">{a.handler}</span>
                    </td>
                    <td>
                      <Status status={st.status} />{' '}
                      {a.current?.status === 'running' ? (
                        <Link href={`/runs/${a.current.run_id}`}>now</Link>
                      ) : a.last ? (
                        <Link href={`/runs/${a.last.run_id}`}>
                          <Time iso={a.last.ended_at} />
                        </Link>
                      ) : null}
                    </td>
                    <td>{a.last?.duration_ms != null ? formatDuration(a.last.duration_ms) : '-'}</td>
                    <td class="num">
                      {count(records)}
                      {errors !== null && <span class={errors ? 'bad' : 'muted'}> · {count(errors)}</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}
