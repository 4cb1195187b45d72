/**
 * The secrets entry points the rest of the runner uses:
 *   - {@link SecretResolver} (one per run) and {@link Masker} (one per run, fed by the resolver);
 *   - {@link prepareStepSecrets}: before a step's handler starts, resolve what it needs and
 *     substitute its config, or fail the step with a message naming the secret;
 *   - {@link checkSecrets}: `runner check --online` rows, one per secret, never a value.
 */
import type { AssetDef, Definitions } from '../definitions/model.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import type { CheckResult } from '../handlers/handler.js';
import { secretsIn, substituteDeep } from '../definitions/interpolate.js';
import { SecretResolver } from './resolver.js';
import { sharedVaultSession, VaultSession } from './vault.js';

export { Masker, MASK, MIN_MASK_LENGTH, formsOf } from './masker.js';
export { SecretResolver, type SecretOutcome, type SecretResolverOptions } from './resolver.js';
export { VaultSession, sharedVaultSession, DEFAULT_K8S_TOKEN_PATH, DEFAULT_VAULT_TIMEOUT_MS, type VaultRef, type VaultRead, type VaultHealth } from './vault.js';

/** The names of the secrets a step needs: those its config references, plus any the handler declares. */
export function stepSecretNames(asset: Pick<AssetDef, 'config'>, extra: Iterable<unknown> = []): string[] {
  const names = secretsIn(asset.config);
  for (const x of extra) secretsIn(x, names);
  return [...names].sort();
}

/** What {@link prepareStepSecrets} hands back. */
export type PreparedStep<C> = { ok: true; config: C; secrets: string[] } | { ok: false; message: string; secrets: string[] };

/**
 * Resolves the secrets a step needs and substitutes every reference in its config
 * (`${env:..}`, `${var:..}`, `${secret:..}`). On failure the message names each secret that
 * failed and where it was looked for; the step must fail with it before its handler starts.
 *
 * `extra` holds further values whose `${secret:..}` references the step needs (e.g. the
 * environment's `openmetadata` settings, whose `jwt` the OpenMetadata handler uses); they
 * are resolved, not substituted.
 */
export async function prepareStepSecrets<C>(
  resolver: SecretResolver,
  asset: Pick<AssetDef, 'key' | 'config'>,
  env: Pick<ResolvedEnvironment, 'vars'>,
  opts: { extra?: unknown[]; processEnv?: Record<string, string | undefined> } = {},
): Promise<PreparedStep<C>> {
  const names = stepSecretNames(asset, opts.extra);
  const outcomes = await resolver.resolve(names);
  const failed: string[] = [];
  for (const o of outcomes.values()) if (!o.ok) failed.push(o.message);
  if (failed.length > 0) return { ok: false, secrets: names, message: failed.join('\n') };
  const r = substituteDeep(asset.config, { env: opts.processEnv ?? process.env, vars: env.vars, secrets: (n) => resolver.value(n) });
  if (r.errors.length > 0) {
    const msg = r.errors.map((e) => `config.${e.path.join('.')}: ${e.message}`).join('\n');
    return { ok: false, secrets: names, message: resolver.masker.mask(msg) };
  }
  return { ok: true, secrets: names, config: r.value as C };
}

/**
 * `runner check --online`: one row per defined secret saying whether it resolves now and
 * from where (never the value), plus a row for the environment's Vault when one is
 * configured. `keys` lists the assets whose config references the secret.
 */
export async function checkSecrets(
  defs: Pick<Definitions, 'secrets' | 'assets' | 'notifications'>,
  env: Pick<ResolvedEnvironment, 'name' | 'vault' | 'openmetadata'>,
  opts: { processEnv?: Record<string, string | undefined>; vault?: VaultSession } = {},
): Promise<CheckResult[]> {
  const processEnv = opts.processEnv ?? process.env;
  const rows: CheckResult[] = [];
  const vault = opts.vault ?? (env.vault?.address ? new VaultSession({ settings: env.vault, processEnv }) : undefined);
  if (vault && [...defs.secrets.values()].some((s) => s.vault && !(s.env && processEnv[s.env]))) {
    const h = await vault.health();
    rows.push(
      h.ok
        ? { name: `Vault at ${vault.address}`, ok: h.initialized && !h.sealed, detail: h.sealed ? 'sealed' : !h.initialized ? 'not initialized' : `reachable${h.version ? `, version ${h.version}` : ''}` }
        : { name: `Vault at ${vault.address}`, ok: false, detail: h.message },
    );
  }
  const resolver = new SecretResolver({ secrets: defs.secrets, env, processEnv, vault });
  const users = new Map<string, string[]>();
  for (const a of defs.assets.values()) for (const n of secretsIn(a.config)) users.set(n, [...(users.get(n) ?? []), a.key]);
  const names = [...defs.secrets.keys()].sort();
  const outcomes = await resolver.resolve(names);
  for (const name of names) {
    const def = defs.secrets.get(name)!;
    const o = outcomes.get(name)!;
    const keys = users.get(name);
    const detail = o.ok
      ? o.source === 'env'
        ? `resolvable from environment variable ${def.env}`
        : `resolvable from Vault ${def.vault!.mount}/${def.vault!.path} (field ${def.vault!.field})`
      : o.message;
    rows.push({ name: `secret ${name}`, ok: o.ok, detail, ...(keys ? { keys } : {}) });
  }
  return rows;
}

/** The process-wide Vault session for an environment (for long-lived processes), or undefined without Vault. */
export function vaultSessionFor(env: Pick<ResolvedEnvironment, 'vault'>, processEnv?: Record<string, string | undefined>): VaultSession | undefined {
  return env.vault?.address ? sharedVaultSession(env.vault, processEnv) : undefined;
}
