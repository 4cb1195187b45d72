/**
 * What a selection is evaluated against, and lazily built lookup tables over it so that
 * each attribute costs one pass over the assets at most, once per evaluation.
 */
import type { AssetGraph } from '../graph/asset-graph.js';

/** The parts of an asset a selection can look at (AssetDef satisfies it). */
export interface SelectableAsset {
  key: string;
  group: string;
  tags: Record<string, string>;
  kinds: string[];
  owners: string[];
  handler: string;
}

/** Everything a selection expression may refer to. */
export interface SelectionContext {
  /** The dependency graph of the assets (graph operators, roots, sinks, ordering). */
  graph: AssetGraph;
  /** The assets by key; the universe `not` complements against. */
  assets: ReadonlyMap<string, SelectableAsset>;
  /** Jobs by name: `job:NAME` selects what that job's `select` selects. */
  jobs: ReadonlyMap<string, { select: string }>;
  /** The status of an asset's step in its last run; `status:` is an error without it. */
  lastStatus?: (key: string) => string | undefined;
}

/** Attributes whose values are looked up in a name -> keys table. */
export type ListAttribute = 'group' | 'kind' | 'owner' | 'handler';

/** Name -> keys tables over a context's assets, each built on first use. */
export class AssetIndex {
  private readonly lists = new Map<ListAttribute, Map<string, string[]>>();
  private tagTable?: Map<string, Map<string, string[]>>;
  private keyList?: string[];

  constructor(private readonly assets: ReadonlyMap<string, SelectableAsset>) {}

  /** Every asset key. */
  get keys(): readonly string[] {
    return (this.keyList ??= [...this.assets.keys()]);
  }

  has(key: string): boolean {
    return this.assets.has(key);
  }

  /** Value of `attr` -> keys of the assets that have it. */
  byValue(attr: ListAttribute): Map<string, string[]> {
    let table = this.lists.get(attr);
    if (!table) {
      table = new Map();
      for (const [key, a] of this.assets) {
        const values = attr === 'group' ? [a.group] : attr === 'handler' ? [a.handler] : attr === 'kind' ? a.kinds : a.owners;
        for (const v of new Set(values)) push(table, v, key);
      }
      this.lists.set(attr, table);
    }
    return table;
  }

  /** Tag name -> tag value -> keys. */
  tags(): Map<string, Map<string, string[]>> {
    if (!this.tagTable) {
      this.tagTable = new Map();
      for (const [key, a] of this.assets) {
        for (const [name, value] of Object.entries(a.tags)) {
          let values = this.tagTable.get(name);
          if (!values) this.tagTable.set(name, (values = new Map()));
          push(values, value, key);
        }
      }
    }
    return this.tagTable;
  }
}

function push(table: Map<string, string[]>, name: string, key: string): void {
  const list = table.get(name);
  if (list) list.push(key);
  else table.set(name, [key]);
}
