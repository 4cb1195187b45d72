/**
 * The environment a step's processes start from. Not the runner's: a step gets `PATH`,
 * `HOME`, `TMPDIR`, the locale (`LANG`, `LANGUAGE`, `LC_*`), `TZ` and the proxy variables,
 * plus what its asset declares (the `command` handler's `env:`, where the secrets it
 * names go). `inherit_env` of the asset or of the environment (and a handler's own list,
 * e.g. what the OpenMetadata CLI needs) widens this by name or by a prefix ending in `*`.
 * Whatever the lists say, a step never inherits `VAULT_*`, the runner's own credentials,
 * the variables behind declared secrets it does not name, or a step mark.
 */
import type { Definitions } from '../definitions/model.js';
import { refsIn } from '../definitions/interpolate.js';
import { MARK_VAR } from './containment/marks.js';

/** What every step inherits when it is set. */
export const BASE_ENV: readonly string[] = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LANGUAGE', 'LC_*', 'TZ', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY'];

/** Variables of the runner itself that no step inherits (besides every `VAULT_*`). */
export const RUNNER_CREDENTIALS: readonly string[] = ['RUNNER_UI_TOKEN', 'SLACK_WEBHOOK_URL', 'DAGSTER_VAULT_ROLE', 'DAGSTER_VAULT_MOUNT'];

/** Whether `name` matches an allow-list entry (a name, or a prefix ending in `*`). */
export function allowed(name: string, list: readonly string[]): boolean {
  for (const p of list) {
    if (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p) return true;
  }
  return false;
}

/** The inherited part of a step's environment. */
export function stepEnvironment(o: StepEnvOptions): Record<string, string> {
  const out: Record<string, string> = {};
  const allow = [...BASE_ENV, ...o.inherit];
  for (const [name, value] of Array.isArray(o.processEnv) ? o.processEnv : Object.entries(o.processEnv)) {
    if (value === undefined || !allowed(name, allow) || withheld(name, o.denied)) continue;
    out[name] = value;
  }
  return out;
}

/** What no process the runner starts inherits: `VAULT_*`, a step mark, the runner's credentials and `denied`. */
function withheld(name: string, denied: ReadonlySet<string>): boolean {
  return name.startsWith('VAULT_') || name === MARK_VAR || RUNNER_CREDENTIALS.includes(name) || denied.has(name);
}

/**
 * The environment of a process the runner starts for its own work (an installer, a
 * version query, `docker kill`): the runner's environment less every `VAULT_*`, the
 * runner's credentials and a step mark, and, with the definitions' policy, every
 * variable a step naming no secret could not inherit (the variables behind declared
 * secrets, the `${env:..}` credentials of notifications, watchers and Vault).
 */
export function childEnvironment(processEnv: Record<string, string | undefined> = process.env, policy?: EnvPolicy): Record<string, string> {
  const denied = deniedFor(policy, new Set());
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(processEnv)) {
    if (value === undefined || withheld(name, denied)) continue;
    out[name] = value;
  }
  return out;
}

/** What a step's environment is made of. */
export interface StepEnvOptions {
  /** The runner's environment, or its entries (read once per run: `process.env` is slow to walk). */
  processEnv: Record<string, string | undefined> | ReadonlyArray<readonly [string, string | undefined]>;
  /** The asset's, the environment's and the handler's `inherit_env` entries. */
  inherit: readonly string[];
  /** Variables no list can let through: the runner's credentials, unnamed secrets' variables. */
  denied: ReadonlySet<string>;
}

/** Which variables of the runner are credentials, and which variable backs each secret. */
export interface EnvPolicy {
  /** `${env:..}` names in notifications, watchers and Vault settings: the runner's own credentials. */
  credentials: ReadonlySet<string>;
  /** Secret name to the environment variable it is read from (`secrets.<name>.env`). */
  secretVars: ReadonlyMap<string, string>;
}

/** The policy of a project's definitions. */
export function envPolicy(defs: Pick<Definitions, 'secrets' | 'notifications' | 'watchers' | 'environments'>): EnvPolicy {
  const credentials = new Set<string>();
  const envRefs = (value: unknown): void => {
    for (const r of refsIn(value)) if (r.ref?.kind === 'env') credentials.add(r.ref.name);
  };
  for (const n of defs.notifications.values()) envRefs(n.slack);
  for (const w of defs.watchers.values()) envRefs(w.dagster);
  for (const e of defs.environments.values()) {
    envRefs(e.vault);
    const idVar = (e.vault as { auth?: { secret_id_env?: string } } | undefined)?.auth?.secret_id_env;
    if (idVar) credentials.add(idVar);
  }
  const secretVars = new Map<string, string>();
  for (const s of defs.secrets.values()) if (s.env) secretVars.set(s.name, s.env);
  return { credentials, secretVars };
}

/** The variables a step that names `named` secrets may not inherit. */
export function deniedFor(policy: EnvPolicy | undefined, named: ReadonlySet<string>): Set<string> {
  const out = new Set(policy?.credentials ?? []);
  if (policy) for (const [secret, v] of policy.secretVars) if (!named.has(secret)) out.add(v);
  return out;
}
