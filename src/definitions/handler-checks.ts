/**
 * Checks of handler configs beyond their JSON Schema, with the position of what is wrong
 * (today: the OpenMetadata connector types). Each check is a light module of its handler;
 * configs are judged as written, so a value that is a `${...}` reference is left to run time.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Definitions } from './model.js';
import type { Origins } from './build.js';
import { checkConnectorTypes, type ConfigProblem } from '../handlers/openmetadata/connector-check.js';

const CHECKS: Record<string, (config: unknown) => ConfigProblem[]> = {
  openmetadata: checkConnectorTypes,
};

/** The problems of every asset's config, at their places. */
export function checkHandlerConfigs(defs: Definitions, origins: Origins): Diagnostic[] {
  const ds: Diagnostic[] = [];
  for (const a of defs.assets.values()) {
    const check = CHECKS[a.handler];
    const origin = origins.assets.get(a.key);
    if (!check || !origin) continue;
    for (const p of check(a.config)) {
      const last = p.path[p.path.length - 1];
      ds.push({ pos: origin.file.pos([...a.configPath, ...p.path]), message: `${typeof last === 'string' ? `${last}: ` : ''}${p.message}` });
    }
  }
  return ds;
}
