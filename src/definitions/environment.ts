/**
 * Choosing and resolving an environment: `--env`, else RUNNER_ENV, else DAGSTER_ENV,
 * else `environments.default`. Resolution substitutes `${env:..}` in its variables and
 * settings; secrets are never resolved here.
 */
import type { Definitions, EnvironmentDef, KubernetesSettingsDef, OpenMetadataSettingsDef, VaultSettingsDef } from './model.js';
import { type Diagnostic, type Result, fail, ok } from '../diagnostics/diagnostic.js';
import { substituteDeep } from './interpolate.js';
import { didYouMean } from '../util/suggest.js';

/** An environment with its variables and settings substituted. */
export interface ResolvedEnvironment {
  name: string;
  vars: Record<string, string>;
  vault?: VaultSettingsDef;
  /** Why `vault` could not be resolved (an unset `${env:VAULT_ADDR}`): reported when Vault is needed. */
  vaultError?: string;
  openmetadata: OpenMetadataSettingsDef;
  /** The environment's `inherit_env`: variables every step inherits besides the minimal set. */
  inheritEnv?: string[];
  /** Set when the environment's steps run as Kubernetes Jobs. */
  kubernetes?: KubernetesSettingsDef;
}

/** Where the environment name came from, for messages. */
export type EnvSource = '--env' | 'RUNNER_ENV' | 'DAGSTER_ENV' | 'environments.default' | 'none';

/** The environment name to use, and where it came from. */
export function chooseEnvironment(defs: Definitions, flag: string | undefined, processEnv: Record<string, string | undefined>): { name?: string; source: EnvSource } {
  if (flag) return { name: flag, source: '--env' };
  if (processEnv.RUNNER_ENV) return { name: processEnv.RUNNER_ENV, source: 'RUNNER_ENV' };
  if (processEnv.DAGSTER_ENV) return { name: processEnv.DAGSTER_ENV, source: 'DAGSTER_ENV' };
  if (defs.defaultEnv) return { name: defs.defaultEnv, source: 'environments.default' };
  return { source: 'none' };
}

/**
 * Chooses and resolves the environment. With no environments defined at all, an empty
 * environment named `default` is used (a quickstart needs none).
 */
export function resolveEnvironment(defs: Definitions, flag: string | undefined, processEnv: Record<string, string | undefined> = process.env): Result<ResolvedEnvironment> {
  const { name, source } = chooseEnvironment(defs, flag, processEnv);
  if (!name) {
    if (defs.environments.size === 0) return ok({ name: 'default', vars: {}, openmetadata: {} });
    return fail({ message: `no environment chosen: pass --env NAME, set RUNNER_ENV, or set environments.default (defined: ${[...defs.environments.keys()].join(', ')})` });
  }
  const def = defs.environments.get(name);
  if (!def) {
    const known = [...defs.environments.keys()];
    return fail({ message: `environment \`${name}\` (from ${source}) does not exist${didYouMean(name, known)}; defined: ${known.join(', ') || 'none'}` });
  }
  return resolveEnvironmentDef(def, processEnv);
}

/** Substitutes one environment's `${env:..}` references; errors point at the environment. */
export function resolveEnvironmentDef(def: EnvironmentDef, processEnv: Record<string, string | undefined>): Result<ResolvedEnvironment> {
  const scope = { env: processEnv, secrets: 'keep' as const };
  // Variables are used by every step: an unset ${env:..} among them is an error now.
  const vars = substituteDeep(def.vars, scope, ['vars']);
  if (vars.errors.length > 0) {
    const ds: Diagnostic[] = vars.errors.map((e) => ({ pos: def.pos, message: `environment \`${def.name}\`: ${e.path.join('.')}: ${e.message}` }));
    return fail(...ds);
  }
  // Vault settings only matter when a secret must come from Vault: report their problem then.
  const vault = def.vault ? substituteDeep(def.vault, scope, ['vault']) : undefined;
  const vaultError = vault && vault.errors.length > 0 ? `environment \`${def.name}\`: ${vault.errors.map((e) => `${e.path.join('.')}: ${e.message}`).join('; ')}` : undefined;
  const om = substituteDeep(def.openmetadata ?? {}, { ...scope, vars: vars.value }, ['openmetadata']);
  if (om.errors.length > 0) {
    return fail(...om.errors.map((e) => ({ pos: def.pos, message: `environment \`${def.name}\`: ${e.path.join('.')}: ${e.message}` })));
  }
  const k8s = def.kubernetes ? substituteDeep(def.kubernetes, { ...scope, vars: vars.value }, ['kubernetes']) : undefined;
  if (k8s && k8s.errors.length > 0) {
    return fail(...k8s.errors.map((e) => ({ pos: def.pos, message: `environment \`${def.name}\`: ${e.path.join('.')}: ${e.message}` })));
  }
  return ok({ name: def.name, vars: vars.value, vault: vaultError ? undefined : vault?.value, vaultError, openmetadata: om.value, ...(def.inheritEnv ? { inheritEnv: def.inheritEnv } : {}), ...(k8s ? { kubernetes: k8s.value } : {}) });
}
