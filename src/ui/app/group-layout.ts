/**
 * The asset graph laid out in groups: every asset in the column of its dependency depth
 * over the whole graph (so dependencies always point right), each group a band of its own
 * below the previous one, outlined as a box with a header. A collapsed group is one box in
 * the column of its shallowest asset; edges to and from its assets end at that box. Pure,
 * computed once per graph and set of collapsed groups: the SVG component only draws it.
 */
import { dependencyDepths, layoutGraph, type PlacedNode } from './graph-layout.js';

/** A group's outline (or, collapsed, its one box). */
export interface PlacedGroup {
  name: string;
  /** Assets in the group. */
  count: number;
  collapsed: boolean;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** An edge between two drawn things: asset keys, or `group:NAME` for a collapsed group. */
export interface GroupedEdge {
  from: string;
  to: string;
  d: string;
}

/** The layout of a grouped graph. */
export interface GroupedLayout {
  /** The drawn assets (those of expanded groups). */
  nodes: PlacedNode[];
  groups: PlacedGroup[];
  edges: GroupedEdge[];
  width: number;
  height: number;
  nodeWidth: number;
  nodeHeight: number;
}

/** Sizes of the grouped layout. */
export interface GroupLayoutOptions {
  nodeWidth?: number;
  nodeHeight?: number;
  gapX?: number;
  gapY?: number;
  margin?: number;
  /** Room above a group's assets for its header. */
  header?: number;
  /** Space between a group's outline and its assets. */
  pad?: number;
  /** Space between two groups. */
  groupGap?: number;
}

/** The id of a collapsed group's box in edges. */
export const groupId = (name: string): string => `group:${name}`;

/** Lays out `nodes` (any order; groups in order of first appearance) with `edges` (`from` upstream → `to`). */
export function layoutGroups(
  nodes: ReadonlyArray<{ key: string; group: string }>,
  edges: ReadonlyArray<{ from: string; to: string }>,
  collapsed: ReadonlySet<string> = new Set(),
  opts: GroupLayoutOptions = {},
): GroupedLayout {
  const W = opts.nodeWidth ?? 220;
  const H = opts.nodeHeight ?? 44;
  const gapX = opts.gapX ?? 72;
  const gapY = opts.gapY ?? 14;
  const margin = opts.margin ?? 12;
  const header = opts.header ?? 26;
  const pad = opts.pad ?? 10;
  const groupGap = opts.groupGap ?? 18;
  const keys = nodes.map((n) => n.key);
  const known = new Set(keys);
  const kept = edges.filter((e) => known.has(e.from) && known.has(e.to) && e.from !== e.to);
  const depth = dependencyDepths(keys, kept);
  const groupOf = new Map(nodes.map((n) => [n.key, n.group]));
  const members = new Map<string, string[]>();
  for (const n of nodes) (members.get(n.group) ?? members.set(n.group, []).get(n.group)!).push(n.key);
  const colX = (layer: number) => margin + pad + layer * (W + gapX);

  const placed: PlacedNode[] = [];
  const boxes = new Map<string, { x: number; y: number }>();
  const groups: PlacedGroup[] = [];
  let top = margin;
  for (const [name, keysIn] of members) {
    const minLayer = Math.min(...keysIn.map((k) => depth.get(k)!));
    if (collapsed.has(name)) {
      const g: PlacedGroup = { name, count: keysIn.length, collapsed: true, x: colX(minLayer) - pad, y: top, width: W + 2 * pad, height: H + 2 * pad };
      groups.push(g);
      boxes.set(groupId(name), { x: g.x, y: g.y + pad });
      top += g.height + groupGap;
      continue;
    }
    const inside = new Set(keysIn);
    const local = layoutGraph(
      keysIn.map((key) => ({ key })),
      kept.filter((e) => inside.has(e.from) && inside.has(e.to)),
      { nodeWidth: W, nodeHeight: H, gapX, gapY, margin: 0, layerOf: (k) => depth.get(k)! },
    );
    let maxLayer = minLayer;
    let bottom = 0;
    for (const n of local.nodes) {
      const p = { ...n, x: colX(n.layer), y: top + header + pad + n.y };
      placed.push(p);
      boxes.set(n.key, p);
      maxLayer = Math.max(maxLayer, n.layer);
      bottom = Math.max(bottom, n.y + H);
    }
    const x = colX(minLayer) - pad;
    const g: PlacedGroup = { name, count: keysIn.length, collapsed: false, x, y: top, width: colX(maxLayer) + W + pad - x, height: header + pad + bottom + pad };
    groups.push(g);
    top += g.height + groupGap;
  }

  const endOf = (k: string) => (collapsed.has(groupOf.get(k)!) ? groupId(groupOf.get(k)!) : k);
  const seen = new Set<string>();
  const drawn: GroupedEdge[] = [];
  for (const e of kept) {
    const from = endOf(e.from);
    const to = endOf(e.to);
    const id = `${from}>${to}`;
    if (from === to || seen.has(id)) continue;
    seen.add(id);
    const a = boxes.get(from)!;
    const b = boxes.get(to)!;
    const x1 = a.x + W;
    const y1 = a.y + H / 2;
    const x2 = b.x;
    const y2 = b.y + H / 2;
    const mx = (x1 + x2) / 2;
    drawn.push({ from, to, d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` });
  }
  let width = margin;
  for (const g of groups) width = Math.max(width, g.x + g.width);
  return { nodes: placed, groups, edges: drawn, width: width + margin, height: Math.max(top - groupGap, margin) + margin, nodeWidth: W, nodeHeight: H };
}

/** Every key upstream (ancestors) and downstream (descendants) of `key`, over `edges`. */
export function lineage(key: string, parents: ReadonlyMap<string, readonly string[]>, children: ReadonlyMap<string, readonly string[]>): { up: Set<string>; down: Set<string> } {
  const walk = (next: ReadonlyMap<string, readonly string[]>): Set<string> => {
    const out = new Set<string>();
    const todo = [...(next.get(key) ?? [])];
    while (todo.length > 0) {
      const k = todo.pop()!;
      if (out.has(k)) continue;
      out.add(k);
      for (const n of next.get(k) ?? []) todo.push(n);
    }
    return out;
  };
  return { up: walk(parents), down: walk(children) };
}
