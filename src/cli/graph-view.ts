/** The asset graph as data, and its Mermaid / dot / JSON renderings. */
import { InputError } from '../diagnostics/diagnostic.js';
import type { Definitions } from '../definitions/model.js';
import { select } from '../selection/index.js';
import { selectionContext } from './selection.js';

export interface GraphDocument {
  nodes: Array<{ key: string; group: string; handler: string }>;
  edges: Array<{ from: string; to: string }>;
}

/** Nodes in topological order; an edge goes from an upstream asset to the one that depends on it. */
export function graphDocument(defs: Definitions, selection?: string): GraphDocument {
  let keys: string[];
  if (selection !== undefined) {
    const r = select(selection, selectionContext(defs));
    if (!r.ok) throw new InputError(r.diagnostics);
    keys = r.value;
  } else keys = [...defs.graph.topoOrder()];
  const inside = new Set(keys);
  const nodes = keys.map((k) => {
    const a = defs.assets.get(k)!;
    return { key: k, group: a.group, handler: a.handler };
  });
  const edges = keys.flatMap((k) => defs.graph.parents(k).filter((p) => inside.has(p)).map((p) => ({ from: p, to: k })));
  return { nodes, edges };
}

export function renderGraph(doc: GraphDocument, format: 'mermaid' | 'dot' | 'json'): string {
  if (format === 'json') return JSON.stringify(doc, null, 2) + '\n';
  if (format === 'dot') {
    const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    const lines = ['digraph assets {', '  rankdir=LR;', '  node [shape=box, style=rounded];'];
    for (const n of doc.nodes) lines.push(`  ${q(n.key)};`);
    for (const e of doc.edges) lines.push(`  ${q(e.from)} -> ${q(e.to)};`);
    lines.push('}');
    return lines.join('\n') + '\n';
  }
  // Mermaid ids must be plain words; keys are shown as labels.
  const ids = new Map<string, string>();
  doc.nodes.forEach((n) => ids.set(n.key, mermaidId(n.key, ids)));
  const lines = ['graph LR'];
  for (const n of doc.nodes) lines.push(`  ${ids.get(n.key)}["${n.key.replace(/"/g, '#quot;')}"]`);
  for (const e of doc.edges) lines.push(`  ${ids.get(e.from)} --> ${ids.get(e.to)}`);
  return lines.join('\n') + '\n';
}

function mermaidId(key: string, taken: Map<string, string>): string {
  const base = key.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'asset';
  const used = new Set(taken.values());
  let id = /^[0-9]/.test(base) ? `a_${base}` : base;
  for (let i = 2; used.has(id) || id === 'end' || id === 'graph'; i++) id = `${base}_${i}`;
  return id;
}
