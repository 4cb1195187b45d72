/**
 * The asset graph as SVG: one `g.node` per asset (coloured by its last run), one
 * `path.edge` per dependency, groups as outlined boxes that collapse. The view fits the
 * whole graph in its panel at first; wheel, pinch and the buttons zoom, dragging pans.
 * Zoom, pan and hover change the DOM directly (a transform, a few classes), so a graph of
 * a thousand assets is not re-rendered while the pointer moves.
 */
import { memo } from 'preact/compat';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { fitLabel } from './graph-layout.js';
import { layoutGroups, lineage, type GroupedLayout } from './group-layout.js';
import { navigate } from './router.js';
import { assetPath } from './api.js';
import type { GraphDoc } from './types.js';
import { useViewport, type Viewport } from './viewport.js';

/** What the graph shows for one asset. */
export interface NodeState {
  /** The last finished step's status, or `running`/`pending` while a run has it. */
  status: string;
  /** A second line (e.g. `success · 5 min ago`). */
  detail: string;
}

const CHAR_W = 7.2;

/** Draws the graph; `highlight` (when set) marks selected assets, dims the rest and brings them into view. */
export function AssetGraph(props: { graph: GraphDoc; state: (key: string) => NodeState; highlight?: ReadonlySet<string> }) {
  const { graph, highlight } = props;
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const longest = useMemo(() => graph.nodes.reduce((m, n) => Math.max(m, n.key.length), 10), [graph]);
  const nodeWidth = Math.min(300, Math.max(160, Math.round(longest * CHAR_W) + 28));
  const layout = useMemo(() => layoutGroups(graph.nodes, graph.edges, collapsed, { nodeWidth, nodeHeight: 44 }), [graph, collapsed, nodeWidth]);
  const svg = useRef<SVGSVGElement>(null);
  const view = useViewport(svg, layout.width, layout.height);
  const toggle = (name: string) =>
    setCollapsed((c) => {
      const n = new Set(c);
      if (!n.delete(name)) n.add(name);
      return n;
    });
  useHoverLineage(svg, graph, layout);
  useFocusSelection(view, layout, highlight);
  // The load-to-first-graph figure of docs/benchmarks.md.
  useEffect(() => {
    if (layout.nodes.length > 0 && performance.getEntriesByName('runner:graph-drawn').length === 0) performance.mark('runner:graph-drawn');
  }, [layout]);
  const states = graph.nodes.map((n) => props.state(n.key));
  return (
    <div class="graph-wrap">
      <div class="graph-tools" role="toolbar" aria-label="graph view">
        <button type="button" data-action="zoom-in" title="zoom in" aria-label="zoom in" onClick={() => view.zoomBy(1.25)}>
          +
        </button>
        <button type="button" data-action="zoom-out" title="zoom out" aria-label="zoom out" onClick={() => view.zoomBy(0.8)}>
          −
        </button>
        <button type="button" data-action="fit" title="fit the whole graph in the panel" onClick={() => view.fit()}>
          Fit
        </button>
        {collapsed.size > 0 ? (
          <button type="button" data-action="expand-all" onClick={() => setCollapsed(new Set())}>
            Expand all
          </button>
        ) : (
          layout.groups.length > 1 && (
            <button type="button" data-action="collapse-all" onClick={() => setCollapsed(new Set(layout.groups.map((g) => g.name)))}>
              Collapse all
            </button>
          )
        )}
        <span class="muted small graph-hint">drag to pan · wheel or pinch to zoom</span>
      </div>
      {/* A big graph opens far out (fit): labels start hidden, so the first layout skips them; the viewport keeps the class right after. */}
      <svg ref={svg} class={`asset-graph${graph.nodes.length > 150 ? ' far' : ''}`} role="img" aria-label={`asset graph: ${graph.nodes.length} assets, ${graph.edges.length} dependencies`}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
          </marker>
        </defs>
        <g class="viewport">
          <GraphBody layout={layout} keys={graph.nodes.map((n) => n.key)} states={states} highlight={highlight} onToggle={toggle} moved={view.moved} />
        </g>
      </svg>
    </div>
  );
}

interface BodyProps {
  layout: GroupedLayout;
  keys: string[];
  states: NodeState[];
  highlight?: ReadonlySet<string>;
  onToggle: (group: string) => void;
  /** Whether the pointer dragged since it went down (a drag is not a click). */
  moved: () => boolean;
}

/** The drawn graph; re-rendered only when the layout, the states or the highlight change. */
const GraphBody = memo(
  function GraphBody({ layout, keys, states, highlight, onToggle, moved }: BodyProps) {
    const stateOf = new Map(keys.map((k, i) => [k, states[i]!]));
    const maxChars = Math.floor((layout.nodeWidth - 24) / CHAR_W);
    const open = (key: string) => {
      if (!moved()) navigate(assetPath('/assets', key));
    };
    const toggle = (name: string) => {
      if (!moved()) onToggle(name);
    };
    return (
      <>
        <g class="groups">
          {layout.groups.map((g) => (
            <g key={g.name} class={`group${g.collapsed ? ' collapsed' : ''}`} data-group={g.name} transform={`translate(${g.x},${g.y})`}>
              <rect class="group-box" width={g.width} height={g.height} rx="8" />
              <g
                class="group-toggle"
                role="button"
                tabIndex={0}
                aria-expanded={!g.collapsed}
                aria-label={`${g.collapsed ? 'expand' : 'collapse'} group ${g.name}`}
                onClick={() => toggle(g.name)}
                onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && onToggle(g.name)}
              >
                <rect class="group-hit" width={Math.min(g.width, 260)} height="26" />
                <text class="group-label" x="10" y={g.collapsed ? 22 : 18}>
                  {g.collapsed ? '▸' : '▾'} {g.name} <tspan class="group-count">({g.count})</tspan>
                </text>
                {g.collapsed && (
                  <text class="sub" x="10" y="44">
                    {g.count} asset{g.count === 1 ? '' : 's'}, collapsed
                  </text>
                )}
              </g>
            </g>
          ))}
        </g>
        <g class="edges">
          {layout.edges.map((e) => {
            const lit = !highlight || (highlight.has(e.from) && highlight.has(e.to));
            return <path key={`${e.from}>${e.to}`} class={`edge${lit ? '' : ' dimmed'}`} data-from={e.from} data-to={e.to} d={e.d} marker-end="url(#arrow)" />;
          })}
        </g>
        <g class="nodes">
          {layout.nodes.map((n) => {
            const st = stateOf.get(n.key) ?? { status: 'never', detail: 'never run' };
            const cls = `node status-${st.status}${highlight ? (highlight.has(n.key) ? ' selected' : ' dimmed') : ''}`;
            return (
              <g
                key={n.key}
                class={cls}
                data-key={n.key}
                data-status={st.status}
                transform={`translate(${n.x},${n.y})`}
                tabIndex={0}
                role="link"
                onClick={() => open(n.key)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') navigate(assetPath('/assets', n.key));
                }}
              >
                <title>{`${n.key}\n${st.detail}`}</title>
                <rect class="box" width={layout.nodeWidth} height={layout.nodeHeight} rx="6" />
                <rect class="stripe" width="6" height={layout.nodeHeight} rx="3" />
                <text class="label" x="14" y="18">
                  {fitLabel(n.key, maxChars)}
                </text>
                <text class="sub" x="14" y="35">
                  {st.detail}
                </text>
              </g>
            );
          })}
        </g>
      </>
    );
  },
  (a, b) =>
    a.layout === b.layout &&
    a.highlight === b.highlight &&
    a.states.length === b.states.length &&
    a.states.every((s, i) => s.status === b.states[i]!.status && s.detail === b.states[i]!.detail),
);

/** Hovering an asset marks it (`hovered`), its upstream (`upstream`) and downstream (`downstream`) assets and the edges between them (`lit`), by classes only. */
function useHoverLineage(svg: { current: SVGSVGElement | null }, graph: GraphDoc, layout: GroupedLayout): void {
  const maps = useMemo(() => {
    const parents = new Map<string, string[]>();
    const children = new Map<string, string[]>();
    for (const e of graph.edges) {
      (parents.get(e.to) ?? parents.set(e.to, []).get(e.to)!).push(e.from);
      (children.get(e.from) ?? children.set(e.from, []).get(e.from)!).push(e.to);
    }
    return { parents, children };
  }, [graph]);
  useLayoutEffect(() => {
    const el = svg.current;
    if (!el) return;
    const nodes = new Map<string, Element>();
    for (const g of el.querySelectorAll('g.node')) nodes.set(g.getAttribute('data-key')!, g);
    const edges = [...el.querySelectorAll('path.edge')];
    let current: string | undefined;
    let marked: Element[] = [];
    const clear = () => {
      for (const m of marked) m.classList.remove('hovered', 'upstream', 'downstream', 'lit');
      marked = [];
      el.classList.remove('hovering');
      current = undefined;
    };
    const over = (ev: Event) => {
      const g = (ev.target as Element).closest?.('g.node');
      const key = g?.getAttribute('data-key') ?? undefined;
      if (key === current) return;
      clear();
      if (!key) return;
      current = key;
      const { up, down } = lineage(key, maps.parents, maps.children);
      const mark = (e: Element | undefined, cls: string) => {
        if (!e) return;
        e.classList.add(cls);
        marked.push(e);
      };
      mark(nodes.get(key), 'hovered');
      for (const k of up) mark(nodes.get(k), 'upstream');
      for (const k of down) mark(nodes.get(k), 'downstream');
      const inUp = (k: string) => k === key || up.has(k);
      const inDown = (k: string) => k === key || down.has(k);
      for (const p of edges) {
        const a = p.getAttribute('data-from')!;
        const b = p.getAttribute('data-to')!;
        if ((inUp(a) && inUp(b)) || (inDown(a) && inDown(b))) mark(p, 'lit');
      }
      el.classList.add('hovering');
    };
    el.addEventListener('pointerover', over);
    el.addEventListener('pointerleave', clear);
    return () => {
      el.removeEventListener('pointerover', over);
      el.removeEventListener('pointerleave', clear);
      clear();
    };
  }, [layout, maps]);
}

/** Brings the selected assets into view when the selection changes (zooming out when they do not fit). */
function useFocusSelection(view: Viewport, layout: GroupedLayout, highlight: ReadonlySet<string> | undefined): void {
  useEffect(() => {
    if (!highlight || highlight.size === 0) return;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    const add = (x: number, y: number) => {
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x + layout.nodeWidth);
      y1 = Math.max(y1, y + layout.nodeHeight);
    };
    for (const n of layout.nodes) if (highlight.has(n.key)) add(n.x, n.y);
    if (x0 === Infinity) return;
    view.show({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
  }, [highlight, layout]);
}
