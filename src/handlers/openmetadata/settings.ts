/**
 * The environment's OpenMetadata settings with their defaults: the server URL
 * (`${var:openmetadata_url}`), the JWT (`${secret:openmetadata_jwt}`), and where the
 * `metadata` CLI lives (a command, default `[metadata]`, a container image run by
 * `engine`, default `docker`, or a venv the runner installs: `install`).
 */
import type { ResolvedEnvironment } from '../../definitions/environment.js';
import { parseRefs, secretsIn, substitute } from '../../definitions/interpolate.js';
import { parseVersionSpec, type VersionSpec } from '../../tools/versions.js';
import { normalizePlugins } from '../../tools/plugins.js';

/** Default server URL reference. */
export const DEFAULT_URL = '${var:openmetadata_url}';
/** Default JWT reference. */
export const DEFAULT_JWT = '${secret:openmetadata_jwt}';
/** Default CLI command. */
export const DEFAULT_CLI = ['metadata'];
/** Default container engine. */
export const DEFAULT_ENGINE = 'docker';

/** A CLI that is there: a command, or an image. */
export type CliRunner = { kind: 'command'; argv: string[] } | { kind: 'container'; image: string; engine: string };

/** A CLI the runner installs (`openmetadata.install`): resolved to a command before it runs. */
export interface InstallRunner {
  kind: 'install';
  spec: VersionSpec;
  /** `install.plugins` (the connectors' plugins are added per run). */
  plugins: string[];
}

/** The settings one step runs with. */
export interface OmSettings {
  /** The server's API URL, e.g. `http://localhost:8585/api` (no trailing slash). */
  url: string;
  /** The JWT as written: a `${secret:NAME}` reference (or, discouraged, a literal). */
  jwtRef: string;
  /** The secrets the JWT reference names (usually `openmetadata_jwt`). */
  jwtSecrets: string[];
  /** How the CLI runs. */
  runner: CliRunner | InstallRunner;
}

/** Settings whose CLI is there (an installed CLI resolved to its command). */
export type ReadySettings = OmSettings & { runner: CliRunner };

/** The settings of `env`, or a message saying what is missing. */
export function resolveSettings(env: ResolvedEnvironment, processEnv: Record<string, string | undefined> = process.env): { ok: true; value: OmSettings } | { ok: false; message: string } {
  const om = env.openmetadata ?? {};
  const urlRef = om.url ?? DEFAULT_URL;
  const u = substitute(urlRef, { env: processEnv, vars: env.vars, secrets: 'keep' });
  if (u.errors.length > 0) {
    return { ok: false, message: `environment \`${env.name}\`: the OpenMetadata server URL (${urlRef}): ${u.errors.join('; ')}; set vars.openmetadata_url or openmetadata.url` };
  }
  if (secretsIn(u.value).size > 0) return { ok: false, message: `environment \`${env.name}\`: the OpenMetadata server URL must not hold a secret` };
  const url = u.value.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+/.test(url)) return { ok: false, message: `environment \`${env.name}\`: the OpenMetadata server URL \`${url}\` is not an http(s) URL` };
  const jwtRef = om.jwt ?? DEFAULT_JWT;
  const parsed = parseRefs(jwtRef);
  if (parsed.error) return { ok: false, message: `environment \`${env.name}\`: openmetadata.jwt: ${parsed.error.message}` };
  const jwtSecrets = [...secretsIn(jwtRef)];
  let runner: OmSettings['runner'];
  if (om.install) {
    const spec = parseVersionSpec(om.install.version);
    if (!spec.ok) return { ok: false, message: `environment \`${env.name}\`: openmetadata.install.${spec.message}` };
    runner = { kind: 'install', spec: spec.value, plugins: normalizePlugins(om.install.plugins ?? []) };
  } else if (om.image) runner = { kind: 'container', image: om.image, engine: om.engine ?? DEFAULT_ENGINE };
  else runner = { kind: 'command', argv: om.cli && om.cli.length > 0 ? [...om.cli] : [...DEFAULT_CLI] };
  return { ok: true, value: { url, jwtRef, jwtSecrets, runner } };
}

/**
 * The JWT's value: the reference with its secrets filled in from `secrets` (values the
 * executor resolved), or undefined when one is missing.
 */
export function jwtValue(settings: OmSettings, env: ResolvedEnvironment, secrets: Record<string, string | undefined>, processEnv: Record<string, string | undefined> = process.env): string | undefined {
  const r = substitute(settings.jwtRef, { env: processEnv, vars: env.vars, secrets: (n) => secrets[n] });
  return r.errors.length > 0 || r.value === '' ? undefined : r.value;
}
