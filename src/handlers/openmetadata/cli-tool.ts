/**
 * `openmetadata: {install: {version}}` of an environment: the runner provides the
 * `metadata` CLI from a cached virtual environment (src/tools/) with the plugins of the
 * connectors the run's assets use, instead of a `cli` on PATH or an `image`. Preflight,
 * which sees every asset of a run, notes the run's plugin set, resolved version and server
 * version; each step then finds (or, the first time, installs under the lock) that venv.
 */
import path from 'node:path';
import type { ResolvedEnvironment } from '../../definitions/environment.js';
import type { OpenMetadataConfig } from './types.js';
import type { InstallRunner, OmSettings, ReadySettings } from './settings.js';
import { normalizePlugins, pluginOf, pluginsFor } from '../../tools/plugins.js';
import { parseVersionSpec, serverSpec, type VersionSpec } from '../../tools/versions.js';
import { OPENMETADATA_TOOL, ensureOpenMetadata, type EnsuredTool, type Outcome } from '../../tools/openmetadata.js';
import { findInstalled } from '../../tools/manifest.js';
import { venvDir } from '../../tools/paths.js';
import { homeOf } from '../../storage/home.js';
import { serverVersion as askServerVersion } from './server.js';

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

/** What preflight learnt about one run, for its steps. */
export interface RunCliInfo {
  /** The plugins of every openmetadata asset of the run, and `install.plugins`. */
  plugins: string[];
  /** The release the spec resolved to. */
  version?: string;
  serverVersion?: string;
}

/** Per run id; a serve process runs many runs, so only the latest few are kept. */
const runs = new Map<string, RunCliInfo>();
const KEPT_RUNS = 64;

/** Notes what a run's steps need (called by preflight). */
export function rememberRun(runId: string, info: RunCliInfo): void {
  runs.delete(runId);
  runs.set(runId, info);
  while (runs.size > KEPT_RUNS) runs.delete(runs.keys().next().value!);
}

/** What preflight noted for a run. */
export function runInfo(runId: string): RunCliInfo | undefined {
  return runs.get(runId);
}

/**
 * The settings with the CLI to run: unchanged for `cli`/`image`; for `install`, the
 * executable of the venv that fits (installed now when missing, progress to `log`).
 */
export async function readyCli(s: OmSettings, o: ReadyOptions): Promise<Outcome<ReadySettings>> {
  if (s.runner.kind !== 'install') return { ok: true, value: s as ReadySettings };
  const info = runInfo(o.runId);
  const plugins = normalizePlugins([...(info?.plugins ?? pluginsOfConfigs([o.config])), ...s.runner.plugins]);
  let spec: VersionSpec = info?.version ? { kind: 'exact', version: info.version, text: info.version } : s.runner.spec;
  let serverVersion = info?.serverVersion;
  if (spec.kind === 'server' && !serverVersion) {
    const v = await askServerVersion(s.url, o.signal);
    if (!v.version) return { ok: false, message: `openmetadata.install.version \`server\`: ${v.error}` };
    serverVersion = v.version;
    spec = serverSpec(v.version);
  }
  const r = await ensureOpenMetadata({ home: homeOf(o.projectDir), spec, plugins, serverVersion, log: o.log, signal: o.signal, childEnv: o.childEnv });
  if (!r.ok) return r;
  noteDropped(r.value, o.log);
  return { ok: true, value: { ...s, runner: { kind: 'command', argv: [r.value.record.metadata] } } };
}

/** Where the CLI is or will be, for `runner render` and `--dry-run` (installs nothing). */
export function plannedCli(s: OmSettings, projectDir: string, config: OpenMetadataConfig): ReadySettings {
  if (s.runner.kind !== 'install') return s as ReadySettings;
  const home = homeOf(projectDir);
  const plugins = normalizePlugins([...pluginsOfConfigs([config]), ...s.runner.plugins]);
  const spec = s.runner.spec;
  if (spec.kind !== 'server') {
    const have = findInstalled(home, OPENMETADATA_TOOL, spec, spec.kind === 'exact' ? pluginsFor(spec.version, plugins).plugins : plugins);
    if (have) return { ...s, runner: { kind: 'command', argv: [have.metadata] } };
  }
  const dir = venvDir(home, OPENMETADATA_TOOL, spec.kind === 'exact' ? spec.version : spec.kind === 'server' ? '<server>' : spec.text, plugins);
  return { ...s, runner: { kind: 'command', argv: [path.join(dir, 'bin', 'metadata')] } };
}

/** The spec an install runner means once the server's version is known. */
export function effectiveSpec(runner: InstallRunner, serverVersion: string | undefined): VersionSpec | undefined {
  if (runner.spec.kind !== 'server') return runner.spec;
  return serverVersion ? serverSpec(serverVersion) : undefined;
}

function noteDropped(t: EnsuredTool, log: (line: string) => void): void {
  if (t.dropped.length > 0) log(`openmetadata: ${t.record.version} provides no plugin ${t.dropped.map((d) => `\`${d}\``).join(', ')}: left out`);
}

/** Options of {@link readyCli}. */
export interface ReadyOptions {
  runId: string;
  projectDir: string;
  /** The step's config (its connector's plugin, when preflight noted nothing). */
  config: OpenMetadataConfig;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** What the installer's commands start from (the step's RunContext.childEnv). */
  childEnv?: Record<string, string>;
}
