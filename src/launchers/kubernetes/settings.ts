/**
 * The Kubernetes settings one step runs with: the environment's, with the step's pool's
 * and the asset's own resources laid over them (a key set at a higher level replaces the
 * same key below), and the image chosen asset → handler → environment.
 */
import type { AssetDef, KubernetesSettingsDef } from '../../definitions/model.js';
import type { KubernetesResources } from '../../definitions/generated/pipeline-file.js';
import { parseDuration } from '../../util/duration.js';

/** Finished Jobs stay this long by default (1 day). */
export const DEFAULT_TTL_MS = 86_400_000;
/** A pod may stay Pending this long by default (15 minutes). */
export const DEFAULT_PENDING_TIMEOUT_MS = 900_000;

/** Requests and limits as Kubernetes takes them (quantities as strings). */
export interface ResourceSpec {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** Settings of one step. */
export interface StepSettings {
  image?: string;
  resources: ResourceSpec;
  ttlSeconds: number;
  pendingTimeoutMs: number;
}

function layer(into: ResourceSpec, r: KubernetesResources | undefined): void {
  for (const part of ['requests', 'limits'] as const) {
    const values = r?.[part];
    if (!values) continue;
    into[part] ??= {};
    for (const [k, v] of Object.entries(values)) into[part]![k] = String(v);
  }
}

/** The settings of `asset`'s steps; `specImage` is the handler's default image. */
export function stepSettings(settings: KubernetesSettingsDef, asset: AssetDef, specImage?: string): StepSettings {
  const resources: ResourceSpec = {};
  layer(resources, settings.resources);
  if (asset.pool !== undefined) layer(resources, settings.pools?.[asset.pool]?.resources);
  layer(resources, asset.kubernetes?.resources);
  const ttl = settings.ttl_after_finished !== undefined ? parseDuration(settings.ttl_after_finished) : undefined;
  const pending = settings.pending_timeout !== undefined ? parseDuration(settings.pending_timeout) : undefined;
  return {
    image: asset.kubernetes?.image ?? specImage ?? settings.image,
    resources,
    ttlSeconds: Math.ceil((ttl ?? DEFAULT_TTL_MS) / 1000),
    pendingTimeoutMs: pending ?? DEFAULT_PENDING_TIMEOUT_MS,
  };
}
