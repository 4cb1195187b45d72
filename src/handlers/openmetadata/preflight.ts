/**
 * Checks before a run and in `runner check --online`: the CLI is there and reports its
 * version; the server answers `GET <url>/v1/system/version`; their major.minor match; the
 * server accepts the JWT on an authenticated call; the dbt artifact files exist.
 */
import { access } from 'node:fs/promises';
import { execa } from 'execa';
import { outside } from '../../execution/containment/own-cgroup.js';
import type { CheckResult, PreflightContext } from '../handler.js';
import type { OpenMetadataConfig } from './types.js';
import { resolveSettings, type OmSettings } from './settings.js';
import { imageVersion, versionArgv } from './invocation.js';
import { kubernetesCliRow } from './remote.js';
import { dbtArtifacts } from './paths.js';
import { substitute } from '../../definitions/interpolate.js';
import { majorMinor, parseVersion, PREFLIGHT_TIMEOUT_MS, reason, serverVersion, withTimeout } from './server.js';
import type { InstallRunner } from './settings.js';
import { effectiveSpec, pluginsOfConfigs, rememberRun } from './cli-tool.js';
import { noteSharedWorkflows } from './shared-run.js';
import { OPENMETADATA_PACKAGE, normalizePlugins, pluginsFor } from '../../tools/plugins.js';
import { OPENMETADATA_TOOL, resolveVersion } from '../../tools/openmetadata.js';
import { serverSpec } from '../../tools/versions.js';
import { findInstalled } from '../../tools/manifest.js';
import { toolsDir } from '../../tools/paths.js';
import { homeOf } from '../../storage/home.js';

export { majorMinor, parseVersion };

/** `metadata --version` imports the whole package: over a minute on a busy host. */
const CLI_VERSION_TIMEOUT_MS = 180_000;

/** Runs every check for the assets of one handler. */
export async function preflightChecks(ctx: PreflightContext<OpenMetadataConfig>): Promise<CheckResult[]> {
  const keys = ctx.assets.map((a) => a.asset.key);
  if (keys.length === 0) return [];
  if (ctx.runId) noteSharedWorkflows(ctx.runId, ctx.env.name, ctx.assets.map((a) => a.asset));
  const rows: CheckResult[] = [];
  const settings = resolveSettings(ctx.env);
  if (!settings.ok) return [{ name: 'openmetadata settings', ok: false, detail: settings.message, keys }];
  const s = settings.value;

  const [cli, server] = ctx.env.kubernetes
    ? await Promise.all([Promise.resolve(kubernetesCliRow(ctx.env)), serverVersion(s.url, ctx.signal)])
    : s.runner.kind === 'install'
      ? await installedCli(s, s.runner, ctx)
      : await Promise.all([checkCli(s, ctx), serverVersion(s.url, ctx.signal)]);
  rows.push({ ...cli.row, keys });
  rows.push({ name: `openmetadata server ${s.url}`, ok: server.version !== undefined, detail: server.version ? `answers, version ${server.version}` : server.error, keys });
  if (cli.version && server.version) rows.push({ ...(await versionRow(cli.version, server.version, s, ctx)), keys });
  if (server.version) rows.push({ ...(await tokenRow(s, ctx)), keys });

  for (const { asset, config } of ctx.assets) {
    const files = dbtArtifacts(config);
    if (files.length === 0) continue;
    const missing: string[] = [];
    for (const f of files) {
      try {
        await access(f.path);
      } catch {
        missing.push(`${f.path} (${f.property})`);
      }
    }
    rows.push({
      name: `dbt artifacts of ${asset.key}`,
      ok: missing.length === 0,
      detail: missing.length === 0 ? `${files.length} file${files.length === 1 ? '' : 's'} present` : `missing: ${missing.join(', ')}; run \`dbt docs generate\` or set DBT_TARGET_DIR`,
      keys: [asset.key],
    });
  }
  return rows;
}

/**
 * For `install`: the server first when the version is `server`, then the version the spec
 * resolves to and whether its venv (with the plugins of every asset checked) is there.
 * Before a run, what was found is noted for the run's steps.
 */
async function installedCli(s: OmSettings, runner: InstallRunner, ctx: PreflightContext<OpenMetadataConfig>): Promise<[{ row: CheckResult; version?: string }, { version?: string; error?: string }]> {
  const name = 'openmetadata CLI';
  const server = await serverVersion(s.url, ctx.signal);
  const plugins = normalizePlugins([...pluginsOfConfigs(ctx.assets.map((a) => a.config)), ...runner.plugins]);
  const spec = effectiveSpec(runner, server.version);
  if (!spec) return [{ row: { name, ok: false, detail: `openmetadata.install.version is \`server\` but the server's version is not known (${server.error})` } }, server];
  const home = homeOf(ctx.projectDir);
  const v = await resolveVersion(spec, { home, log: () => undefined, signal: ctx.signal, childEnv: ctx.childEnv });
  if (!v.ok) return [{ row: { name, ok: false, detail: v.message } }, server];
  if (ctx.runId) rememberRun(ctx.runId, { plugins, version: v.value, serverVersion: server.version });
  const wanted = pluginsFor(v.value, plugins).plugins;
  const req = `${OPENMETADATA_PACKAGE}${wanted.length > 0 ? `[${wanted.join(',')}]` : ''}==${v.value}`;
  const have = findInstalled(home, OPENMETADATA_TOOL, { kind: 'exact', version: v.value, text: v.value }, wanted);
  const detail = have ? `${req} installed: ${have.metadata}` : `${req} (openmetadata.install.version ${runner.spec.text}) is not installed yet: the first step installs it under ${toolsDir(home)}`;
  return [{ row: { name, ok: true, detail }, version: v.value }, server];
}

async function checkCli(s: OmSettings, ctx: PreflightContext<OpenMetadataConfig>): Promise<{ row: CheckResult; version?: string }> {
  const signal = ctx.signal;
  // Never the runner's environment (VAULT_TOKEN, the secrets' variables): the engine gets
  // what an installer gets, the CLI what a step naming no secret gets.
  if (s.runner.kind === 'container') {
    const { engine, image } = s.runner;
    const r = await outside(execa(engine, ['--version'], { env: ctx.childEnv, extendEnv: false, reject: false, timeout: PREFLIGHT_TIMEOUT_MS, cancelSignal: signal, stdin: 'ignore' }));
    if (r.failed) return { row: { name: 'openmetadata CLI', ok: false, detail: `container engine \`${engine}\` not found or not working (${oneLine(r.shortMessage ?? '')})` } };
    const version = imageVersion(image);
    return { row: { name: 'openmetadata CLI', ok: true, detail: version ? `image ${image} (metadata ${version}) with ${oneLine(String(r.stdout))}` : `image ${image} names no version: the versions are not compared` }, version };
  }
  const argv = versionArgv(s)!;
  const r = await outside(execa(argv[0]!, argv.slice(1), { env: ctx.stepEnv, extendEnv: false, reject: false, timeout: CLI_VERSION_TIMEOUT_MS, cancelSignal: signal, stdin: 'ignore', all: true }));
  if (r.timedOut) return { row: { name: 'openmetadata CLI', ok: false, detail: `\`${argv.join(' ')}\` did not answer within ${CLI_VERSION_TIMEOUT_MS / 1000} s` } };
  if (r.failed && (r.exitCode === undefined || r.exitCode === 127)) {
    return { row: { name: 'openmetadata CLI', ok: false, detail: `\`${argv.slice(0, -1).join(' ')}\` not found: install openmetadata-ingestion (the server's major.minor) or set openmetadata.cli / openmetadata.image of the environment` } };
  }
  const out = String(r.all ?? r.stdout ?? '');
  const version = parseVersion(out);
  if (r.exitCode !== 0 || !version) {
    return { row: { name: 'openmetadata CLI', ok: false, detail: `\`${argv.join(' ')}\` ${r.exitCode !== 0 ? `exited with code ${r.exitCode}` : 'printed no version'}: ${oneLine(out).slice(0, 200)}` } };
  }
  return { row: { name: 'openmetadata CLI', ok: true, detail: oneLine(out).slice(0, 200) }, version };
}

/** Compares major.minor; a mismatch names the matching release (the index's newest of the server's major.minor) and how to get it. */
async function versionRow(cliVersion: string, server: string, s: OmSettings, ctx: PreflightContext<OpenMetadataConfig>): Promise<CheckResult> {
  const name = 'openmetadata versions';
  const mm = majorMinor(server);
  if (majorMinor(cliVersion) === mm) return { name, ok: true, detail: `CLI ${cliVersion} and server ${server} match (${mm})` };
  const head = `CLI ${cliVersion} vs server ${server}: major.minor must match`;
  const env = ctx.env.name;
  if (s.runner.kind === 'container') return { name, ok: false, detail: `${head}; set environments.${env}.openmetadata.image to openmetadata/ingestion:${server}` };
  const match = await resolveVersion(serverSpec(server), { home: homeOf(ctx.projectDir), log: () => undefined, signal: withTimeout(ctx.signal), childEnv: ctx.childEnv });
  if (s.runner.kind === 'install') {
    return { name, ok: false, detail: `${head}; set environments.${env}.openmetadata.install.version to \`server\` or \`${mm}.*\`${match.ok ? ` (the matching release is ${match.value})` : ''}` };
  }
  if (!match.ok) return { name, ok: false, detail: `${head}; install openmetadata-ingestion~=${mm}.0 (e.g. \`pip install 'openmetadata-ingestion~=${mm}.0'\`)` };
  return { name, ok: false, detail: `${head}; the matching release is ${OPENMETADATA_PACKAGE} ${match.value}: \`pip install '${OPENMETADATA_PACKAGE}==${match.value}'\`, or let the runner install it: environments.${env}.openmetadata.install.version: server` };
}

async function tokenRow(s: OmSettings, ctx: PreflightContext<OpenMetadataConfig>): Promise<CheckResult> {
  const name = 'openmetadata token';
  const secretName = s.jwtSecrets[0] ?? 'openmetadata_jwt';
  const values: Record<string, string | undefined> = {};
  for (const n of s.jwtSecrets) values[n] = await ctx.secret(n);
  const r = substitute(s.jwtRef, { env: process.env, vars: ctx.env.vars, secrets: (n) => values[n] });
  if (r.errors.length > 0 || r.value === '') return { name, ok: false, detail: `secret \`${secretName}\` could not be resolved` };
  try {
    const res = await fetch(`${s.url}/v1/users/loggedInUser`, { signal: withTimeout(ctx.signal), headers: { accept: 'application/json', authorization: `Bearer ${r.value}` } });
    if (res.status === 401 || res.status === 403) return { name, ok: false, detail: `the JWT from secret \`${secretName}\` was rejected by ${s.url} (HTTP ${res.status})` };
    if (!res.ok) return { name, ok: false, detail: `GET ${s.url}/v1/users/loggedInUser answered HTTP ${res.status}` };
    const body = (await res.json().catch(() => ({}))) as { name?: unknown };
    return { name, ok: true, detail: `accepted by ${s.url}${typeof body.name === 'string' ? ` (as ${body.name})` : ''}` };
  } catch (err) {
    return { name, ok: false, detail: `${s.url} did not answer: ${reason(err)}` };
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
