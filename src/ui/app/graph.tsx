/** The asset graph as SVG: one `g.node` per asset (coloured by its last run), one `path.edge` per dependency. */
import { useMemo } from 'preact/hooks';
import { fitLabel, layoutGraph } from './graph-layout.js';
import { navigate } from './router.js';
import { assetPath } from './api.js';
import type { GraphDoc } from './types.js';

/** What the graph shows for one asset. */
export interface NodeState {
  /** The last finished step's status, or `running`/`pending` while a run has it. */
  status: string;
  /** A second line (e.g. `success · 5 min ago`). */
  detail: string;
}

const CHAR_W = 7.2;

/** Draws the graph; `highlight` (when set) marks selected assets and dims the rest. */
export function AssetGraph(props: { graph: GraphDoc; state: (key: string) => NodeState; highlight?: ReadonlySet<string> }) {
  const { graph, highlight } = props;
  const longest = Math.max(10, ...graph.nodes.map((n) => n.key.length));
  const nodeWidth = Math.min(300, Math.max(160, Math.round(longest * CHAR_W) + 28));
  const layout = useMemo(() => layoutGraph(graph.nodes, graph.edges, { nodeWidth, nodeHeight: 44 }), [graph, nodeWidth]);
  const maxChars = Math.floor((nodeWidth - 24) / CHAR_W);
  const open = (key: string) => navigate(assetPath('/assets', key));
  return (
    <svg class="asset-graph" width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`} role="img" aria-label={`asset graph: ${graph.nodes.length} assets, ${graph.edges.length} dependencies`}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
        </marker>
      </defs>
      <g class="edges">
        {layout.edges.map((e) => {
          const lit = !highlight || (highlight.has(e.from) && highlight.has(e.to));
          return <path key={`${e.from}>${e.to}`} class={`edge${lit ? '' : ' dimmed'}`} data-from={e.from} data-to={e.to} d={e.d} marker-end="url(#arrow)" />;
        })}
      </g>
      <g class="nodes">
        {layout.nodes.map((n) => {
          const st = props.state(n.key);
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
                if (e.key === 'Enter') open(n.key);
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
    </svg>
  );
}
