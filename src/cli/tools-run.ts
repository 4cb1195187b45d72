/** The bodies of `runner tools install` and `runner tools list`. */
import path from 'node:path';
import { InputError, type Diagnostic } from '../diagnostics/diagnostic.js';
import { loadWithEnv, type EnvOptions, type PipelinesOptions } from './options.js';
import { table } from './list-view.js';
import { homeOf } from '../storage/home.js';
import { listTools } from '../tools/manifest.js';
import { checkPluginName, normalizePlugins } from '../tools/plugins.js';
import { parseVersionSpec, type VersionSpec } from '../tools/versions.js';
import { OPENMETADATA_TOOL, ensureOpenMetadata } from '../tools/openmetadata.js';
import type { OpenMetadataConfig } from '../handlers/openmetadata/types.js';

/** The tools `runner tools install` knows. */
const TOOLS = [OPENMETADATA_TOOL];

/** Installs (or finds) the tool; returns the exit code (0 ready, 1 the install failed, 130/143 canceled). Bad input throws (exit 2). */
export async function toolsInstall(tool: string, opts: ToolsInstallOptions): Promise<number> {
  if (!TOOLS.includes(tool)) throw new InputError(`unknown tool \`${tool}\`; known: ${TOOLS.join(', ')}`);
  const ds: Diagnostic[] = [];
  let spec: VersionSpec | undefined;
  if (opts.version !== undefined) {
    const r = parseVersionSpec(opts.version);
    if (r.ok) spec = r.value;
    else ds.push({ message: `--version: ${r.message}` });
  }
  const plugins = opts.plugins === undefined ? [] : normalizePlugins(opts.plugins.split(','));
  for (const p of plugins) {
    const why = checkPluginName(p, spec?.kind === 'exact' ? spec.version : undefined);
    if (why) ds.push({ message: `--plugins: ${why}` });
  }
  if (ds.length > 0) throw new InputError(ds);

  let home = homeOf(path.dirname(path.resolve(opts.pipelines)));
  let serverVersion: string | undefined;
  let childEnv: Record<string, string> | undefined;
  if (opts.env !== undefined || spec === undefined || spec.kind === 'server') {
    const fromEnv = await fromEnvironment(opts, spec);
    home = fromEnv.home;
    spec = fromEnv.spec;
    plugins.push(...fromEnv.plugins);
    serverVersion = fromEnv.serverVersion;
    childEnv = fromEnv.childEnv;
  }
  const log = (line: string) => process.stderr.write(line + '\n');
  const signal = interruptSignal();
  const r = await ensureOpenMetadata({ home, spec, plugins: normalizePlugins(plugins), serverVersion, log, signal, childEnv });
  if (!r.ok) {
    process.stderr.write(`runner: ${r.message}\n`);
    // Ctrl-C / SIGTERM: the install's whole tree was stopped and its venv removed.
    return signal.aborted ? (signal.reason === 'SIGTERM' ? 143 : 130) : 1;
  }
  const { record, installed, dropped } = r.value;
  if (dropped.length > 0) log(`openmetadata: ${record.version} has no plugin ${dropped.map((d) => `\`${d}\``).join(', ')}: left out`);
  if (!installed) log(`openmetadata: ${record.version}${record.plugins.length > 0 ? ` [${record.plugins.join(',')}]` : ''} is already installed in ${record.dir}`);
  if (opts.json) process.stdout.write(JSON.stringify({ ...record, installed, dropped }, null, 2) + '\n');
  else process.stdout.write(record.metadata + '\n');
  return 0;
}

/** Prints the installed tools. */
export function toolsList(opts: ToolsListOptions): void {
  const tools = listTools(homeOf(path.dirname(path.resolve(opts.pipelines))));
  if (opts.json) {
    process.stdout.write(JSON.stringify({ tools }, null, 2) + '\n');
    return;
  }
  if (tools.length === 0) {
    process.stdout.write('no tools installed (runner tools install openmetadata --version V)\n');
    return;
  }
  process.stdout.write(table(['TOOL', 'VERSION', 'PLUGINS', 'EXECUTABLE'], tools.map((t) => [t.name, t.version, t.plugins.join(',') || '-', t.metadata])).join('\n') + '\n');
}

/** The version, plugins and home an environment's pipeline files say. */
async function fromEnvironment(opts: ToolsInstallOptions, flagSpec: VersionSpec | undefined): Promise<{ home: string; spec: VersionSpec; plugins: string[]; serverVersion?: string; childEnv: Record<string, string> }> {
  const { defs, env } = await loadWithEnv(opts);
  const { installSettings, pluginsOfConfigs } = await import('../handlers/openmetadata/cli-tool.js');
  const settings = installSettings(env);
  if (settings && !settings.ok) throw new InputError(settings.message);
  const spec = flagSpec ?? settings?.value.spec;
  if (!spec) throw new InputError(`environment \`${env.name}\` has no openmetadata.install.version: pass --version or set it`);
  const { substituteDeep } = await import('../definitions/interpolate.js');
  const configs = [...defs.assets.values()].filter((a) => a.handler === 'openmetadata').map((a) => substituteDeep(a.config, { env: process.env, vars: env.vars, secrets: 'mask' }).value as unknown as OpenMetadataConfig);
  const plugins = [...(settings?.value.plugins ?? []), ...pluginsOfConfigs(configs)];
  let serverVersion: string | undefined;
  if (spec.kind === 'server') {
    const { resolveSettings } = await import('../handlers/openmetadata/settings.js');
    const { serverVersion: ask } = await import('../handlers/openmetadata/server.js');
    const s = resolveSettings(env);
    if (!s.ok) throw new InputError(s.message);
    const v = await ask(s.value.url);
    if (!v.version) throw new InputError(`version \`server\`: ${v.error}`);
    serverVersion = v.version;
  }
  // The definitions are known: their secrets' variables and credentials stay out of pip.
  const { childEnvironment, envPolicy } = await import('../execution/step-env.js');
  return { home: homeOf(defs.projectDir), spec, plugins, serverVersion, childEnv: childEnvironment(process.env, envPolicy(defs)) };
}

/** Aborted on Ctrl-C / SIGTERM, so an install in progress is stopped with its whole tree. */
function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort('SIGINT'));
  process.once('SIGTERM', () => ac.abort('SIGTERM'));
  return ac.signal;
}

/** Options of `runner tools install`. */
export interface ToolsInstallOptions extends PipelinesOptions, EnvOptions {
  version?: string;
  plugins?: string;
  json?: boolean;
}

/** Options of `runner tools list`. */
export interface ToolsListOptions extends PipelinesOptions {
  json?: boolean;
}
