/**
 * Checks before a run and in `runner check --online`: the CLI is there and reports its
 * version; the server answers `GET <url>/v1/system/version`; their major.minor match; the
 * server accepts the JWT on an authenticated call; the dbt artifact files exist.
 */
import { access } from 'node:fs/promises';
import { execa } from 'execa';
import type { CheckResult, PreflightContext } from '../handler.js';
import type { ResolvedEnvironment } from '../../definitions/environment.js';
import type { OpenMetadataConfig } from './types.js';
import { resolveSettings, type OmSettings } from './settings.js';
import { imageVersion, versionArgv } from './invocation.js';
import { dbtArtifacts } from './paths.js';
import { substitute } from '../../definitions/interpolate.js';

/** How long one network call or `metadata --version` may take. */
export const PREFLIGHT_TIMEOUT_MS = 30_000;
/** `metadata --version` imports the whole package: over a minute on a busy host. */
const CLI_VERSION_TIMEOUT_MS = 180_000;

/** `1.10.4` from `metadata 1.10.4 from /path (python 3.11)`, `1.10.4.1`, `1.10.4-SNAPSHOT`. */
export function parseVersion(text: string): string | undefined {
  return /(\d+\.\d+\.\d+)/.exec(text)?.[1];
}

/** `1.10` of `1.10.4`. */
export function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

/** Runs every check for the assets of one handler. */
export async function preflightChecks(ctx: PreflightContext<OpenMetadataConfig>): Promise<CheckResult[]> {
  const keys = ctx.assets.map((a) => a.asset.key);
  if (keys.length === 0) return [];
  const rows: CheckResult[] = [];
  const settings = resolveSettings(ctx.env);
  if (!settings.ok) return [{ name: 'openmetadata settings', ok: false, detail: settings.message, keys }];
  const s = settings.value;

  const [cli, server] = await Promise.all([checkCli(s, ctx.signal), serverVersion(s.url, ctx.signal)]);
  rows.push({ ...cli.row, keys });
  rows.push({ name: `openmetadata server ${s.url}`, ok: server.version !== undefined, detail: server.version ? `answers, version ${server.version}` : server.error, keys });
  if (cli.version && server.version) rows.push({ ...versionRow(cli.version, server.version, s, ctx.env), keys });
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

async function checkCli(s: OmSettings, signal?: AbortSignal): Promise<{ row: CheckResult; version?: string }> {
  if (s.runner.kind === 'container') {
    const { engine, image } = s.runner;
    const r = await execa(engine, ['--version'], { reject: false, timeout: PREFLIGHT_TIMEOUT_MS, cancelSignal: signal, stdin: 'ignore' });
    if (r.failed) return { row: { name: 'openmetadata CLI', ok: false, detail: `container engine \`${engine}\` not found or not working (${oneLine(r.shortMessage ?? '')})` } };
    const version = imageVersion(image);
    return { row: { name: 'openmetadata CLI', ok: true, detail: version ? `image ${image} (metadata ${version}) with ${oneLine(String(r.stdout))}` : `image ${image} names no version: the versions are not compared` }, version };
  }
  const argv = versionArgv(s)!;
  const r = await execa(argv[0]!, argv.slice(1), { reject: false, timeout: CLI_VERSION_TIMEOUT_MS, cancelSignal: signal, stdin: 'ignore', all: true });
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

/** The server's version from `GET <url>/v1/system/version`, or why not. */
export async function serverVersion(url: string, signal?: AbortSignal): Promise<{ version?: string; error?: string }> {
  try {
    const res = await fetch(`${url}/v1/system/version`, { signal: withTimeout(signal), headers: { accept: 'application/json' } });
    if (!res.ok) return { error: `GET ${url}/v1/system/version answered HTTP ${res.status}` };
    const body = (await res.json()) as { version?: unknown };
    const version = typeof body.version === 'string' ? parseVersion(body.version) : undefined;
    return version ? { version } : { error: `GET ${url}/v1/system/version answered without a version` };
  } catch (err) {
    return { error: `${url} did not answer: ${reason(err)}` };
  }
}

function versionRow(cliVersion: string, server: string, s: OmSettings, env: ResolvedEnvironment): CheckResult {
  const name = 'openmetadata versions';
  if (majorMinor(cliVersion) === majorMinor(server)) return { name, ok: true, detail: `CLI ${cliVersion} and server ${server} match (${majorMinor(server)})` };
  const mm = majorMinor(server);
  const fix =
    s.runner.kind === 'container'
      ? `set environments.${env.name}.openmetadata.image to openmetadata/ingestion:${server}`
      : `install openmetadata-ingestion~=${mm}.0 (e.g. \`pip install 'openmetadata-ingestion~=${mm}.0'\`)`;
  return { name, ok: false, detail: `CLI ${cliVersion} vs server ${server}: major.minor must match; ${fix}` };
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

function withTimeout(signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(PREFLIGHT_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, t]) : t;
}

function reason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${PREFLIGHT_TIMEOUT_MS / 1000}s`;
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
