/**
 * `openmetadata: {install: {version}}` of an environment: the runner provides the
 * `metadata` CLI from a cached virtual environment (src/tools/) with the plugins of the
 * connectors the assets use, instead of a `cli` on PATH or an `image`.
 */
import type { ResolvedEnvironment } from '../../definitions/environment.js';
import type { OpenMetadataConfig } from './types.js';
import { normalizePlugins, pluginOf } from '../../tools/plugins.js';
import { parseVersionSpec, type VersionSpec } from '../../tools/versions.js';
import { ensureOpenMetadata, type EnsuredTool, type Outcome } from '../../tools/openmetadata.js';

/** The environment's install settings, parsed; undefined when it does not ask the runner to install. */
export function installSettings(env: ResolvedEnvironment): Outcome<{ spec: VersionSpec; plugins: string[] }> | undefined {
  const install = env.openmetadata?.install;
  if (!install) return undefined;
  const spec = parseVersionSpec(install.version);
  if (!spec.ok) return { ok: false, message: `environment \`${env.name}\`: openmetadata.install.${spec.message}` };
  return { ok: true, value: { spec: spec.value, plugins: normalizePlugins(install.plugins ?? []) } };
}

/** The plugins the workflows of `configs` need (their connectors' extras), sorted. */
export function pluginsOfConfigs(configs: Iterable<OpenMetadataConfig>): string[] {
  const out: string[] = [];
  for (const c of configs) {
    const t = c?.source?.type;
    const p = typeof t === 'string' ? pluginOf(t) : undefined;
    if (p) out.push(p);
  }
  return normalizePlugins(out);
}

/** The CLI for the environment's install settings and `plugins`, installed when missing. */
export async function provideCli(o: ProvideOptions): Promise<Outcome<EnsuredTool>> {
  const settings = installSettings(o.env);
  if (!settings) return { ok: false, message: `environment \`${o.env.name}\` has no openmetadata.install` };
  if (!settings.ok) return settings;
  return ensureOpenMetadata({
    home: o.home,
    spec: settings.value.spec,
    plugins: normalizePlugins([...settings.value.plugins, ...o.plugins]),
    serverVersion: o.serverVersion,
    log: o.log,
    signal: o.signal,
  });
}

/** Options of {@link provideCli}. */
export interface ProvideOptions {
  home: string;
  env: ResolvedEnvironment;
  /** The plugins of the connectors in use (the environment's `install.plugins` are added). */
  plugins: string[];
  serverVersion?: string;
  log: (line: string) => void;
  signal?: AbortSignal;
}
