/**
 * The asset dependency graph: parents (upstream) and children (downstream) of every key,
 * a deterministic topological order (ties broken by key), bounded ancestor/descendant
 * walks, and cycle finding. Built once per load; all lookups are O(1) per edge.
 */

export class AssetGraph {
  /** All keys, sorted. */
  readonly keys: readonly string[];
  private readonly up: Map<string, string[]>;
  private readonly down: Map<string, string[]>;
  private orderIndex?: Map<string, number>;
  private topo?: readonly string[];

  /** `deps` maps each key to its upstream keys; deps naming unknown keys are ignored. */
  constructor(deps: ReadonlyMap<string, readonly string[]>) {
    this.keys = [...deps.keys()].sort();
    this.up = new Map();
    this.down = new Map();
    for (const k of this.keys) this.down.set(k, []);
    // Plain loops: this runs once per load over every edge, often before the JIT warms up.
    for (const k of this.keys) {
      const raw = deps.get(k) ?? [];
      const parents: string[] = [];
      for (const p of raw) if (deps.has(p) && !parents.includes(p)) parents.push(p);
      if (parents.length > 1) parents.sort();
      this.up.set(k, parents);
      for (const p of parents) this.down.get(p)!.push(k);
    }
    // Children were pushed in key order (the outer loop is sorted), so they are sorted already.
  }

  has(key: string): boolean {
    return this.up.has(key);
  }

  /** Direct upstream keys, sorted. */
  parents(key: string): readonly string[] {
    return this.up.get(key) ?? [];
  }

  /** Direct downstream keys, sorted. */
  children(key: string): readonly string[] {
    return this.down.get(key) ?? [];
  }

  /** Number of edges (dependencies). */
  get edgeCount(): number {
    let n = 0;
    for (const p of this.up.values()) n += p.length;
    return n;
  }

  /** Keys reachable upstream within `depth` levels (Infinity for all), not including the start keys unless reached. */
  ancestors(start: Iterable<string>, depth = Infinity): Set<string> {
    return this.walk(start, depth, this.up);
  }

  /** Keys reachable downstream within `depth` levels. */
  descendants(start: Iterable<string>, depth = Infinity): Set<string> {
    return this.walk(start, depth, this.down);
  }

  private walk(start: Iterable<string>, depth: number, edges: Map<string, string[]>): Set<string> {
    const seen = new Set<string>();
    let frontier = [...start];
    for (let level = 0; level < depth && frontier.length > 0; level++) {
      const next: string[] = [];
      for (const k of frontier) {
        for (const n of edges.get(k) ?? []) {
          if (!seen.has(n)) {
            seen.add(n);
            next.push(n);
          }
        }
      }
      frontier = next;
    }
    return seen;
  }

  /**
   * Kahn's algorithm with a min-heap, so the order is deterministic: among keys that are
   * ready at once, the smallest key comes first. Throws if the graph has a cycle (the
   * loader rejects cycles before a graph is ever ordered).
   */
  topoOrder(): readonly string[] {
    this.topo ??= this.computeTopoOrder();
    return this.topo;
  }

  private computeTopoOrder(): readonly string[] {
    const indegree = new Map<string, number>();
    for (const k of this.keys) indegree.set(k, this.up.get(k)!.length);
    const heap = new MinHeap();
    for (const k of this.keys) if (indegree.get(k) === 0) heap.push(k);
    const order: string[] = [];
    while (heap.size > 0) {
      const k = heap.pop()!;
      order.push(k);
      for (const c of this.down.get(k)!) {
        const d = indegree.get(c)! - 1;
        indegree.set(c, d);
        if (d === 0) heap.push(c);
      }
    }
    if (order.length !== this.keys.length) throw new Error('asset graph has a cycle');
    return order;
  }

  /** The given keys in topological order. */
  order(keys: Iterable<string>): string[] {
    if (!this.orderIndex) this.orderIndex = new Map(this.topoOrder().map((k, i) => [k, i]));
    const idx = this.orderIndex;
    return [...new Set(keys)].filter((k) => idx.has(k)).sort((a, b) => idx.get(a)! - idx.get(b)!);
  }

  /** Keys of the selection with no parent inside the selection. */
  roots(keys: Iterable<string>): Set<string> {
    const set = new Set(keys);
    return new Set([...set].filter((k) => !this.parents(k).some((p) => set.has(p))));
  }

  /** Keys of the selection with no child inside the selection. */
  sinks(keys: Iterable<string>): Set<string> {
    const set = new Set(keys);
    return new Set([...set].filter((k) => !this.children(k).some((c) => set.has(c))));
  }

  /**
   * Every elementary cycle found by a DFS, each once, as a key path that starts and ends
   * with the same key (`[a, b, a]`). Empty when the graph is acyclic.
   */
  cycles(): string[][] {
    const WHITE = 0, GREY = 1, BLACK = 2;
    const color = new Map<string, number>();
    const stack: string[] = [];
    const found: string[][] = [];
    const seen = new Set<string>();
    for (const root of this.keys) {
      if ((color.get(root) ?? WHITE) !== WHITE) continue;
      // Iterative DFS over upstream edges (a -> b means a depends on b).
      const iters: Array<{ key: string; i: number }> = [{ key: root, i: 0 }];
      color.set(root, GREY);
      stack.push(root);
      while (iters.length > 0) {
        const top = iters[iters.length - 1]!;
        const parents = this.up.get(top.key)!;
        if (top.i < parents.length) {
          const next = parents[top.i++]!;
          const c = color.get(next) ?? WHITE;
          if (c === WHITE) {
            color.set(next, GREY);
            stack.push(next);
            iters.push({ key: next, i: 0 });
          } else if (c === GREY) {
            const cycle = [...stack.slice(stack.indexOf(next)), next];
            const id = [...cycle.slice(0, -1)].sort().join('\u0000');
            if (!seen.has(id)) {
              seen.add(id);
              found.push(cycle);
            }
          }
        } else {
          color.set(top.key, BLACK);
          stack.pop();
          iters.pop();
        }
      }
    }
    return found;
  }
}

/** A binary min-heap of strings, for the deterministic topological sort. */
class MinHeap {
  private a: string[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: string): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): string | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
