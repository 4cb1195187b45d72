/** Shared pieces of the Kubernetes launcher tests. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
// Not re-exported by the package index; the package has no exports map, so its module is reachable.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import type { AssetDef, KubernetesSettingsDef } from '../../src/definitions/model.js';

/** The project root. */
export const ROOT = path.resolve(__dirname, '../..');

/** The Kubernetes settings of the test environment `k8s`. */
export const K8S_SETTINGS: KubernetesSettingsDef = {
  namespace: 'data',
  image: 'registry.example.org/tools:1.2',
  service_account: 'ingestion',
  resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
  pools: { openmetadata_cli: { resources: { limits: { memory: '4Gi' } } } },
  node_selector: { workload: 'ingestion' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ingestion', effect: 'NoSchedule' }],
  image_pull_secrets: ['registry'],
  labels: { team: 'data-platform' },
};

/**
 * A copy of pipelines/ under `root` with an environment `k8s` (the dev variables, the
 * OpenMetadata server at `serverUrl`, `kubernetes` settings merged over {@link K8S_SETTINGS}).
 */
export function pipelinesWithKubernetes(root: string, o: { serverUrl?: string; kubernetes?: Record<string, unknown>; retryDelay?: string } = {}): string {
  const dir = path.join(root, 'pipelines');
  cpSync(path.join(ROOT, 'pipelines'), dir, { recursive: true });
  const env = {
    description: 'Steps as Kubernetes Jobs (tests).',
    vars: { openmetadata_url: o.serverUrl ?? 'http://openmetadata.data.svc:8585/api', ui_url: 'http://runner.data.svc', dagster_url: 'http://dagster.data.svc:3000', dagster_host: 'dagster.data.svc', dagster_port: 3000 },
    kubernetes: { ...K8S_SETTINGS, ...(o.kubernetes ?? {}) },
  };
  writeFileSync(path.join(dir, 'kubernetes-test.yaml'), `# yaml-language-server: $schema=../schemas/pipeline.schema.json\n${YAML.stringify({ environments: { k8s: env } })}`);
  if (o.retryDelay) {
    for (const f of ['trino', 'dbt', 'iceberg', 'airbyte', 'dagster', 'redash', 's3', 'superset']) {
      const p = path.join(dir, 'openmetadata', `${f}.yaml`);
      writeFileSync(p, readFileSync(p, 'utf8').replace(/delay: \d+m\b/g, `delay: ${o.retryDelay}`));
    }
  }
  return dir;
}

/** An asset for unit tests. */
export function asset(key: string, over: Partial<AssetDef> = {}): AssetDef {
  return { key, group: 'g', tags: {}, kinds: [], owners: [], deps: [], handler: 'command', config: { run: ['true'] }, pos: { file: 't.yaml', line: 1, col: 1 }, configPath: ['assets', 0, 'config'], ...over };
}

/**
 * Whether `obj` is exactly what the client library's type `type` describes: a round trip
 * through ObjectSerializer drops every property the type does not know, so a misspelt or
 * misplaced field makes the result differ.
 */
export function roundTrip(obj: unknown, type: string): unknown {
  return ObjectSerializer.serialize(ObjectSerializer.deserialize(JSON.parse(JSON.stringify(obj)), type), type);
}
