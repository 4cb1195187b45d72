/** Builds selection contexts for tests. */
import { AssetGraph } from '../../src/graph/asset-graph.js';
import type { SelectableAsset, SelectionContext } from '../../src/selection/index.js';

/** An asset as tests write it: a key, deps, and whatever attributes matter to the test. */
export interface TestAsset extends Partial<SelectableAsset> {
  key: string;
  deps?: string[];
}

/** A context over `assets` (defaults: group `default`, handler `command`, no tags/kinds/owners). */
export function makeContext(
  assets: TestAsset[],
  jobs: Record<string, string> = {},
  lastStatus?: Record<string, string>,
): SelectionContext {
  const map = new Map<string, SelectableAsset>();
  const deps = new Map<string, string[]>();
  for (const a of assets) {
    map.set(a.key, { key: a.key, group: a.group ?? 'default', tags: a.tags ?? {}, kinds: a.kinds ?? [], owners: a.owners ?? [], handler: a.handler ?? 'command' });
    deps.set(a.key, a.deps ?? []);
  }
  const ctx: SelectionContext = {
    graph: new AssetGraph(deps),
    assets: map,
    jobs: new Map(Object.entries(jobs).map(([name, select]) => [name, { select }])),
  };
  if (lastStatus) ctx.lastStatus = (k) => lastStatus[k];
  return ctx;
}

/** The 12 OpenMetadata ingestion assets of the real project, with their deps and jobs. */
export const OPENMETADATA_KEYS = [
  'trino/metadata', 'trino/lineage', 'trino/profiling', 'dbt/metadata', 'dbt/lineage', 'dagster/metadata',
  'superset/metadata', 'airbyte/metadata', 's3/metadata', 'iceberg/metadata', 'iceberg/profiling', 'redash/metadata',
].map((k) => `openmetadata/${k}`);

const OM_DEPS: Record<string, string> = {
  'openmetadata/trino/lineage': 'openmetadata/trino/metadata',
  'openmetadata/trino/profiling': 'openmetadata/trino/metadata',
  'openmetadata/dbt/lineage': 'openmetadata/dbt/metadata',
  'openmetadata/iceberg/profiling': 'openmetadata/iceberg/metadata',
};

export function openMetadataContext(): SelectionContext {
  return makeContext(
    OPENMETADATA_KEYS.map((key) => ({
      key,
      group: 'openmetadata',
      handler: 'openmetadata',
      kinds: [key.split('/')[1]!],
      tags: { source: key.split('/')[1]!, pipeline: key.split('/')[2]! },
      owners: ['data-platform@example.org'],
      deps: OM_DEPS[key] ? [OM_DEPS[key]] : [],
    })),
    { critical_metadata_ingestion: 'openmetadata/trino/metadata or openmetadata/dbt/metadata or openmetadata/dagster/metadata' },
  );
}
