/**
 * A layered layout of the asset graph: each asset in the column of its dependency depth
 * (the longest path from a root), columns left to right; roots stacked in the given
 * order, and every other asset placed at the mean height of its parents (pushed down
 * just enough not to overlap), so a chain reads as a row. Edges are cubic curves from an
 * asset's right side to its dependent's left side. Pure: the SVG component draws it.
 */

/** A placed node. */
export interface PlacedNode {
  key: string;
  /** Column (dependency depth) and row inside it. */
  layer: number;
  row: number;
  /** Top-left corner. */
  x: number;
  y: number;
}

/** A drawn edge: from an upstream asset to the one that depends on it. */
export interface PlacedEdge {
  from: string;
  to: string;
  /** SVG path data. */
  d: string;
}

/** The layout of a graph. */
export interface GraphLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
  nodeWidth: number;
  nodeHeight: number;
}

/** Sizes of the layout. */
export interface LayoutOptions {
  nodeWidth?: number;
  nodeHeight?: number;
  gapX?: number;
  gapY?: number;
  margin?: number;
  /** The column of each node (default: its dependency depth among `nodes`). */
  layerOf?: (key: string) => number;
}

/** Each key's dependency depth: the longest path from a root; a cycle (never in valid definitions) is cut where found. */
export function dependencyDepths(keys: readonly string[], edges: ReadonlyArray<{ from: string; to: string }>): Map<string, number> {
  const parents = new Map<string, string[]>(keys.map((k) => [k, []]));
  for (const e of edges) if (e.from !== e.to) parents.get(e.to)?.push(e.from);
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  // Iterative, so a chain of thousands of assets cannot overflow the stack.
  for (const root of keys) {
    if (depth.has(root)) continue;
    const stack: Array<{ k: string; i: number; d: number }> = [{ k: root, i: 0, d: 0 }];
    visiting.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const ps = parents.get(top.k) ?? [];
      if (top.i < ps.length) {
        const p = ps[top.i++]!;
        const known = depth.get(p);
        if (known !== undefined) top.d = Math.max(top.d, known + 1);
        else if (!visiting.has(p) && parents.has(p)) {
          visiting.add(p);
          stack.push({ k: p, i: 0, d: 0 });
        }
        continue;
      }
      stack.pop();
      visiting.delete(top.k);
      depth.set(top.k, top.d);
      const below = stack[stack.length - 1];
      if (below) below.d = Math.max(below.d, top.d + 1);
    }
  }
  return depth;
}

/** Lays out `nodes` (any order) with `edges` (`from` upstream → `to`); edges to unknown keys are dropped. */
export function layoutGraph(nodes: ReadonlyArray<{ key: string }>, edges: ReadonlyArray<{ from: string; to: string }>, opts: LayoutOptions = {}): GraphLayout {
  const W = opts.nodeWidth ?? 220;
  const H = opts.nodeHeight ?? 40;
  const gapX = opts.gapX ?? 72;
  const gapY = opts.gapY ?? 14;
  const margin = opts.margin ?? 12;
  const keys = nodes.map((n) => n.key);
  const known = new Set(keys);
  const kept = edges.filter((e) => known.has(e.from) && known.has(e.to) && e.from !== e.to);
  const parents = new Map<string, string[]>(keys.map((k) => [k, []]));
  for (const e of kept) parents.get(e.to)!.push(e.from);
  const depth = opts.layerOf ? new Map(keys.map((k) => [k, opts.layerOf!(k)])) : dependencyDepths(keys, kept);

  const layers: string[][] = [];
  for (const k of keys) (layers[depth.get(k)!] ??= []).push(k);
  for (let i = 0; i < layers.length; i++) layers[i] ??= [];
  const index = new Map(keys.map((k, i) => [k, i]));

  // Roots stack in the given order; each later column is ordered by, and placed at, the
  // mean height of its assets' parents, pushed down just enough not to overlap.
  const placed = new Map<string, PlacedNode>();
  const step = H + gapY;
  layers.forEach((layer, li) => {
    const want = new Map<string, number>();
    for (const k of layer) {
      const ps = parents.get(k)!.flatMap((p) => (placed.has(p) ? [placed.get(p)!.y] : []));
      want.set(k, ps.length > 0 ? ps.reduce((a, b) => a + b, 0) / ps.length : -Infinity);
    }
    if (li > 0) layer.sort((a, b) => want.get(a)! - want.get(b)! || index.get(a)! - index.get(b)!);
    let next = margin;
    layer.forEach((key, ri) => {
      const y = li === 0 ? next : Math.max(next, want.get(key)!);
      placed.set(key, { key, layer: li, row: ri, x: margin + li * (W + gapX), y });
      next = y + step;
    });
  });
  let bottom = margin + H;
  for (const n of placed.values()) bottom = Math.max(bottom, n.y + H);
  const placedEdges = kept.map((e) => {
    const a = placed.get(e.from)!;
    const b = placed.get(e.to)!;
    const x1 = a.x + W;
    const y1 = a.y + H / 2;
    const x2 = b.x;
    const y2 = b.y + H / 2;
    const mx = (x1 + x2) / 2;
    return { from: e.from, to: e.to, d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` };
  });
  return {
    nodes: keys.map((k) => placed.get(k)!),
    edges: placedEdges,
    width: margin * 2 + Math.max(1, layers.length) * (W + gapX) - gapX,
    height: bottom + margin,
    nodeWidth: W,
    nodeHeight: H,
  };
}

/** A label that fits in `max` characters: the key, or its end after `…`. */
export function fitLabel(key: string, max: number): string {
  return key.length <= max ? key : '…' + key.slice(key.length - (max - 1));
}
