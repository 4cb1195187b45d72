/**
 * The local files a workflow reads: dbt artifacts of a `local` dbt source and query log
 * files. Preflight checks that they exist; the container form mounts their directories.
 */
import type { OpenMetadataConfig } from './types.js';

/** A file the workflow reads, with the property naming it. */
export interface ReadPath {
  property: string;
  path: string;
  /** Whether OpenMetadata needs it (the manifest) or only uses it when present. */
  required: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The dbt artifact paths of a `local` dbt source. */
export function dbtArtifacts(config: OpenMetadataConfig): ReadPath[] {
  const c = config.source?.sourceConfig?.config;
  const src = isObject(c) ? c.dbtConfigSource : undefined;
  if (!isObject(src) || src.dbtConfigType !== 'local') return [];
  const out: ReadPath[] = [];
  for (const [property, required] of [['dbtManifestFilePath', true], ['dbtCatalogFilePath', false], ['dbtRunResultsFilePath', false]] as const) {
    const p = src[property];
    if (typeof p === 'string' && p !== '') out.push({ property, path: p, required });
  }
  return out;
}

/** Every local path the workflow reads. */
export function readPathsOf(config: OpenMetadataConfig): string[] {
  const out = dbtArtifacts(config).map((r) => r.path);
  const c = config.source?.sourceConfig?.config;
  if (isObject(c) && typeof c.queryLogFilePath === 'string') out.push(c.queryLogFilePath);
  return out;
}
