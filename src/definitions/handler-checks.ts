/**
 * Checks of handler configs beyond their JSON Schema, with the position of what is wrong
 * (today: the OpenMetadata connector types), and of the plugins an environment asks the
 * runner to install. Each check is a light module of its handler; configs are judged as
 * written, so a value that is a `${...}` reference is left to run time.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Definitions } from './model.js';
import type { Origins } from './build.js';
import { checkConnectorTypes, type ConfigProblem } from '../handlers/openmetadata/connector-check.js';
import { checkPluginName } from '../tools/plugins.js';
import { parseVersionSpec } from '../tools/versions.js';

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
  ds.push(...checkInstallPlugins(defs, origins));
  return ds;
}

/** Each `openmetadata.install.plugins` entry must be an extra of the release asked for (pip would only warn). */
function checkInstallPlugins(defs: Definitions, origins: Origins): Diagnostic[] {
  const ds: Diagnostic[] = [];
  for (const env of defs.environments.values()) {
    const install = env.openmetadata?.install;
    const origin = origins.environments.get(env.name);
    if (!install?.plugins || !origin) continue;
    const spec = parseVersionSpec(install.version);
    // The extras are known per major.minor: a release or a wildcard that names one.
    const version = !spec.ok ? undefined : spec.value.kind === 'exact' ? spec.value.version : spec.value.kind === 'wildcard' && spec.value.prefix.length >= 2 ? spec.value.prefix.join('.') : undefined;
    install.plugins.forEach((p, i) => {
      const why = p.includes('${') ? undefined : checkPluginName(p, version);
      if (why) ds.push({ pos: origin.file.pos(['environments', env.name, 'openmetadata', 'install', 'plugins', i]), message: `plugins: ${why}` });
    });
  }
  return ds;
}
