/**
 * Secret resolution for one run. A secret's sources are tried in order: its environment
 * variable (set and non-empty wins), then Vault; it fails only when none yields a value.
 * Each secret is resolved at most once per resolver, and only when something asks for it
 * (a selected step's config, a notification's webhook). Every value found is added to the
 * run's Masker at once, so nothing printed afterwards can show it.
 */
import type { SecretDef, VaultSettingsDef } from '../definitions/model.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import { didYouMean } from '../util/suggest.js';
import { Masker } from './masker.js';
import { VaultSession } from './vault.js';

/** One secret's outcome. A failure's message names the secret and where it was looked for, never a value. */
export type SecretOutcome =
  | { ok: true; value: string; source: 'env' | 'vault' }
  /** `unconfigured`: no source was available at all (no env var set, no Vault for this environment). */
  | { ok: false; message: string; unconfigured: boolean };

export interface SecretResolverOptions {
  /** The definitions' secrets. */
  secrets: Map<string, SecretDef> | Iterable<SecretDef>;
  /** The run's environment (its `vault` settings already `${env:..}`-substituted). */
  env: Pick<ResolvedEnvironment, 'name' | 'vault'>;
  /** Process environment (default `process.env`). */
  processEnv?: Record<string, string | undefined>;
  /** The run's masker; every resolved value is added to it (default: a new one). */
  masker?: Masker;
  /**
   * The Vault session to use (e.g. `sharedVaultSession(env.vault)` in `runner serve`);
   * default: a new session for this resolver, created at the first Vault read.
   */
  vault?: VaultSession;
}

/** Resolves secrets by name for one run; caches outcomes, failures included. */
export class SecretResolver {
  /** The masker that receives every resolved value. */
  readonly masker: Masker;
  private readonly defs: Map<string, SecretDef>;
  private readonly env: Pick<ResolvedEnvironment, 'name' | 'vault'>;
  private readonly processEnv: Record<string, string | undefined>;
  private vault: VaultSession | undefined;
  private readonly outcomes = new Map<string, Promise<SecretOutcome>>();
  private readonly values = new Map<string, string>();

  constructor(opts: SecretResolverOptions) {
    this.defs = opts.secrets instanceof Map ? opts.secrets : new Map([...opts.secrets].map((s) => [s.name, s]));
    this.env = opts.env;
    this.processEnv = opts.processEnv ?? process.env;
    this.masker = opts.masker ?? new Masker();
    this.vault = opts.vault;
  }

  /** Resolves each name (concurrently, each at most once per resolver). */
  async resolve(names: Iterable<string>): Promise<Map<string, SecretOutcome>> {
    const unique = [...new Set(names)];
    const results = await Promise.all(unique.map((n) => this.resolveOne(n)));
    return new Map(unique.map((n, i) => [n, results[i]!]));
  }

  /** Resolves one secret (cached). */
  resolveOne(name: string): Promise<SecretOutcome> {
    let p = this.outcomes.get(name);
    if (!p) {
      p = this.lookup(name).then((o) => {
        if (o.ok) {
          this.masker.add(o.value);
          this.values.set(name, o.value);
        }
        return o;
      });
      this.outcomes.set(name, p);
    }
    return p;
  }

  /**
   * The value of a secret already resolved, else undefined. Synchronous, for
   * `substituteDeep`'s `secrets` function after `resolve()` has run.
   */
  value(name: string): string | undefined {
    return this.values.get(name);
  }

  private async lookup(name: string): Promise<SecretOutcome> {
    const def = this.defs.get(name);
    if (!def) {
      return { ok: false, unconfigured: false, message: `secret \`${name}\` is not defined${didYouMean(name, this.defs.keys())}; add it under \`secrets:\`` };
    }
    if (def.env) {
      const v = this.processEnv[def.env];
      if (v !== undefined && v !== '' && !v.includes('\0')) return { ok: true, value: v, source: 'env' };
      if (v?.includes('\0')) {
        this.masker.add(v);
        return { ok: false, unconfigured: false, message: `secret \`${name}\`: environment variable ${def.env} contains a NUL byte, which no environment variable or argument of a step can hold` };
      }
    }
    const override = def.env ? ` (or set ${def.env} to override)` : '';
    if (!def.vault) {
      return { ok: false, unconfigured: true, message: `secret \`${name}\`: environment variable ${def.env ?? '?'} is not set, and the secret has no \`vault\` source` };
    }
    const where = `${def.vault.mount}/${def.vault.path}`;
    const settings = this.env.vault;
    if (!settings || !settings.address) {
      const unset = def.env ? `environment variable ${def.env} is not set, and ` : '';
      return {
        ok: false,
        unconfigured: true,
        message: `secret \`${name}\`: ${unset}environment \`${this.env.name}\` has no \`vault\` settings to read ${where} (field ${def.vault.field}) from`,
      };
    }
    const session = this.session(settings);
    const r = await session.read({ mount: def.vault.mount, path: def.vault.path, field: def.vault.field, kv: def.vault.kv ?? 1 });
    // The run must not show the Vault token (or the login's) either, whatever asked for it.
    this.masker.addAll(session.credentialValues());
    if (r.ok) {
      const nul = r.value.indexOf('\0');
      if (nul < 0) return { ok: true, value: r.value, source: 'vault' };
      // No environment variable or argument can hold a NUL: say so, never the value.
      this.masker.add(r.value);
      return {
        ok: false,
        unconfigured: false,
        message: `secret \`${name}\`: the value of field ${def.vault.field} at Vault ${where} contains a NUL byte (at character ${nul + 1}), which no environment variable or argument can hold; store it without one (e.g. base64-encoded)${override}`,
      };
    }
    // A message from Vault could in principle echo something sensitive: mask it with what we know.
    const msg = this.masker.mask(r.message);
    return { ok: false, unconfigured: false, message: `secret \`${name}\`: Vault at ${session.address}: ${msg}${msg.includes(where) ? '' : ` (reading ${where})`}${override}` };
  }

  private session(settings: VaultSettingsDef): VaultSession {
    if (!this.vault) this.vault = new VaultSession({ settings, processEnv: this.processEnv });
    return this.vault;
  }
}
