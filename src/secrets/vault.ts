/**
 * A logged-in connection to one Vault (node-vault underneath): logs in with the
 * environment's auth method, reads one field of a KV v1 or v2 secret, renews the token
 * before it runs out and logs in again when Vault says the token is no longer good.
 *
 * A session lives as long as its process wants: `runner materialize` uses one per run,
 * `runner serve` keeps one per Vault for weeks (see {@link sharedVaultSession}). No value,
 * token or login credential ever appears in a message this module returns: the session
 * masks every credential it has seen (VAULT_TOKEN, the secret id, the service-account
 * JWT, the tokens logins hand out) in what Vault, or a proxy in front of it, answers.
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type nodeVault from 'node-vault';
import type { VaultSettingsDef } from '../definitions/model.js';
import { parseDuration } from '../util/duration.js';
import { timerMs } from '../util/timers.js';
import { Masker } from './masker.js';

/** Where a secret lives in Vault's KV store. */
export interface VaultRef {
  mount: string;
  path: string;
  field: string;
  kv: 1 | 2;
}

/** A read's outcome; `message` never holds a value. */
export type VaultRead = { ok: true; value: string } | { ok: false; message: string };

/** `sys/health`, as far as the runner cares. */
export type VaultHealth = { ok: true; sealed: boolean; initialized: boolean; standby: boolean; version?: string } | { ok: false; message: string };

/** The Kubernetes service-account token file inside a pod. */
export const DEFAULT_K8S_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';
/** How long one request to Vault may take unless `vault.timeout` says otherwise. */
export const DEFAULT_VAULT_TIMEOUT_MS = 10_000;

export interface VaultSessionOptions {
  /** The environment's `vault` settings, `${env:..}` already substituted. */
  settings: VaultSettingsDef;
  /** Process environment: VAULT_TOKEN, VAULT_SECRET_ID, DAGSTER_VAULT_ROLE/MOUNT, HOME, VAULT_CACERT. */
  processEnv?: Record<string, string | undefined>;
  /** Overrides `settings.timeout`. */
  timeoutMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

type Login = { ok: true; token: string } | { ok: false; message: string };

interface ApiError {
  response?: { statusCode: number; body?: { errors?: unknown[]; warnings?: unknown[] } };
  code?: string;
}

/** One Vault's client and token; safe to share between concurrent reads. */
export class VaultSession {
  /** The address as configured (shown in messages). */
  readonly address: string;
  /** Made at the first request: node-vault (and axios under it) load only for runs that read Vault. */
  private client!: nodeVault.client;
  private readonly clientOptions: nodeVault.VaultOptions;
  private readonly env: Record<string, string | undefined>;
  private readonly auth: NonNullable<VaultSettingsDef['auth']>;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private token: string | undefined;
  /** When to renew (ms since epoch), known for tokens we got from a login or renewal. */
  private renewAt: number | undefined;
  private renewable = false;
  private pending: Promise<Login> | undefined;
  /** Every credential this session has seen, masked in every message it returns. */
  private readonly credentials = new Masker();
  private readonly seen = new Set<string>();

  constructor(opts: VaultSessionOptions) {
    const { settings } = opts;
    this.env = opts.processEnv ?? process.env;
    this.remember(this.env.VAULT_TOKEN, this.env[(settings.auth?.method === 'approle' && settings.auth.secret_id_env) || 'VAULT_SECRET_ID']);
    this.address = settings.address.replace(/\/+$/, '');
    this.auth = settings.auth ?? { method: 'token' };
    this.timeoutMs = opts.timeoutMs ?? (settings.timeout ? parseDuration(settings.timeout) : undefined) ?? DEFAULT_VAULT_TIMEOUT_MS;
    this.now = opts.now ?? Date.now;
    // One Node timer: a longer timeout would fire at once.
    const requestOptions: Record<string, unknown> = { timeout: timerMs(this.timeoutMs) };
    const caFile = this.env.VAULT_CACERT;
    if (caFile) {
      try {
        requestOptions.ca = readFileSync(caFile);
      } catch {
        // An unreadable CA file shows up as a TLS error on the first request.
      }
    }
    this.clientOptions = {
      endpoint: this.address,
      namespace: settings.namespace || undefined,
      requestOptions: requestOptions as never,
      // node-vault's debug output would print login bodies (the JWT, the secret id).
      debug: () => undefined,
    };
  }

  /** The node-vault client, made once. Tokens are passed per request; it keeps none (it would pick up VAULT_TOKEN). */
  private async connect(): Promise<void> {
    if (this.client) return;
    const { default: nodeVault } = await import('node-vault');
    this.client ??= nodeVault(this.clientOptions);
    this.client.token = '';
  }

  /**
   * The credentials this session has seen so far (tokens, secret id, JWT), for a run's
   * masker: a step must not be able to print them either.
   */
  credentialValues(): string[] {
    return [...this.seen];
  }

  private remember(...values: Array<string | undefined>): void {
    for (const v of values) {
      if (!v || this.seen.has(v)) continue;
      this.seen.add(v);
      this.credentials.add(v);
      if (v.trim() !== v) this.credentials.add(v.trim());
    }
  }

  /** A short description of the auth method for messages, e.g. `kubernetes login (role dagster, mount k8s-data)`. */
  describeAuth(): string {
    const a = this.auth;
    if (a.method === 'kubernetes') return `kubernetes login (role ${this.k8sRole() ?? '?'}, mount ${this.k8sMount()})`;
    if (a.method === 'approle') return `approle login (mount ${a.mount || 'approle'})`;
    return 'token';
  }

  /** Reads one field of a secret; logs in first if needed, and once more if the token went bad. */
  async read(ref: VaultRef): Promise<VaultRead> {
    const where = `${ref.mount}/${ref.path}`;
    const apiPath = ref.kv === 2 ? `${trimSlashes(ref.mount)}/data/${trimSlashes(ref.path)}` : `${trimSlashes(ref.mount)}/${trimSlashes(ref.path)}`;
    const login = await this.ensureToken();
    if (!login.ok) return login;
    let res = await this.call(() => this.client.read(apiPath, { headers: { 'X-Vault-Token': login.token } }));
    if (!res.ok && res.status === 403) {
      // Vault answers 403 both to a policy that denies the path and to a token that expired
      // or was revoked (e.g. a lease that ended while serve ran): log in again once, retry.
      const again = await this.relogin(login.token);
      if (!again.ok) return again;
      if (again.token !== login.token) res = await this.call(() => this.client.read(apiPath, { headers: { 'X-Vault-Token': again.token } }));
    }
    if (!res.ok) {
      if (res.status === 404) {
        // Vault says so in a warning when a KV v2 mount is read with a v1 path.
        const v2 = ref.kv === 1 && res.warnings?.some((w) => /versioned K\/V/i.test(w));
        return { ok: false, message: `path ${where} not found (404${v2 ? '; the mount is KV version 2: set `kv: 2`' : ''})` };
      }
      if (res.status === 403) return { ok: false, message: `permission denied (403) reading ${where} with ${this.describeAuth()}` };
      return { ok: false, message: `${res.message} reading ${where}` };
    }
    const body = res.body as { data?: Record<string, unknown> & { data?: Record<string, unknown> | null } } | undefined;
    const fields = ref.kv === 2 ? body?.data?.data : body?.data;
    if (!fields || typeof fields !== 'object') {
      return { ok: false, message: ref.kv === 2 ? `path ${where} has no current version (deleted or destroyed)` : `path ${where} holds no data (is the mount KV version 2? set \`kv: 2\`)` };
    }
    if (!(ref.field in fields)) {
      const names = Object.keys(fields).sort();
      return { ok: false, message: `path ${where} has no field \`${ref.field}\` (fields: ${names.join(', ') || 'none'})` };
    }
    const raw = fields[ref.field];
    const value = typeof raw === 'string' ? raw : raw === null || raw === undefined ? '' : typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
    if (value === '') return { ok: false, message: `field \`${ref.field}\` of ${where} is empty` };
    return { ok: true, value };
  }

  /** `sys/health`: reachable, initialized, sealed. Needs no token. */
  async health(): Promise<VaultHealth> {
    const res = await this.call(() => this.client.health());
    if (!res.ok) return { ok: false, message: res.message };
    const b = (res.body ?? {}) as { sealed?: boolean; initialized?: boolean; standby?: boolean; version?: string };
    return { ok: true, sealed: b.sealed === true, initialized: b.initialized !== false, standby: b.standby === true, version: b.version };
  }

  /** Forgets the token (the next read logs in again). */
  reset(): void {
    this.token = undefined;
    this.renewAt = undefined;
    this.renewable = false;
  }

  /** A token good for the next request: the current one, a renewed one or a fresh login. */
  private async ensureToken(): Promise<Login> {
    if (this.pending) return this.pending;
    if (this.token && (this.renewAt === undefined || this.now() < this.renewAt)) return { ok: true, token: this.token };
    return this.exclusive(async () => {
      if (this.token && this.renewable) {
        const renewed = await this.renew(this.token);
        if (renewed) return { ok: true, token: renewed };
      }
      return this.login();
    });
  }

  /** Logs in again unless someone already did since `stale` was handed out. */
  private async relogin(stale: string): Promise<Login> {
    if (this.pending) return this.pending;
    if (this.token && this.token !== stale) return { ok: true, token: this.token };
    return this.exclusive(async () => {
      const r = await this.login();
      if (r.ok && r.token === stale && this.auth.method === 'token') {
        // The token method cannot get a new token by itself: tell an expired token from a policy denial.
        const look = await this.call(() => this.client.tokenLookupSelf({ requestOptions: { headers: { 'X-Vault-Token': stale } } }));
        if (!look.ok && look.status === 403) {
          this.reset();
          return { ok: false, message: `the Vault token is invalid or expired (403): run \`vault login\` or set VAULT_TOKEN` };
        }
      }
      return r;
    });
  }

  /** Runs one login/renewal at a time; concurrent callers share its outcome. */
  private exclusive(fn: () => Promise<Login>): Promise<Login> {
    const p = fn().finally(() => {
      if (this.pending === p) this.pending = undefined;
    });
    this.pending = p;
    return p;
  }

  private async renew(token: string): Promise<string | undefined> {
    const res = await this.call(() => this.client.tokenRenewSelf({ requestOptions: { headers: { 'X-Vault-Token': token } } }));
    this.client.token = '';
    const auth = res.ok ? (res.body as { auth?: { client_token?: string; lease_duration?: number; renewable?: boolean } }).auth : undefined;
    // A renewal that no longer extends the token (max TTL reached) is as good as a failure.
    if (!auth || !auth.lease_duration || auth.lease_duration < 10) return undefined;
    this.adopt(auth.client_token || token, auth.lease_duration, auth.renewable !== false);
    return this.token;
  }

  private async login(): Promise<Login> {
    const a = this.auth;
    if (a.method === 'token') {
      const token = await this.tokenFromSources();
      if (!token) {
        return { ok: false, message: `no Vault token: set VAULT_TOKEN or run \`vault login\` (which writes ~/.vault-token)` };
      }
      this.remember(token);
      this.token = token;
      this.renewAt = undefined;
      this.renewable = false;
      return { ok: true, token };
    }
    let res: Outcome;
    if (a.method === 'kubernetes') {
      const role = this.k8sRole();
      if (!role) return { ok: false, message: `kubernetes auth needs a role: set \`vault.auth.role\` or DAGSTER_VAULT_ROLE` };
      const tokenPath = a.token_path || DEFAULT_K8S_TOKEN_PATH;
      let jwt: string;
      try {
        // Read at every login: projected service-account tokens rotate.
        jwt = (await readFile(tokenPath, 'utf8')).trim();
        this.remember(jwt);
      } catch (err) {
        return { ok: false, message: `${this.describeAuth()}: cannot read the service-account token ${tokenPath} (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
      }
      res = await this.call(() => this.client.kubernetesLogin({ role, jwt, mount_point: this.k8sMount() }));
    } else {
      const roleId = a.role_id || this.env.VAULT_ROLE_ID;
      const secretEnv = a.secret_id_env || 'VAULT_SECRET_ID';
      const secretId = this.env[secretEnv];
      if (!roleId) return { ok: false, message: `approle auth needs \`vault.auth.role_id\` (or VAULT_ROLE_ID)` };
      if (!secretId) return { ok: false, message: `approle auth needs the secret id in the environment variable ${secretEnv}, which is not set` };
      this.remember(secretId);
      res = await this.call(() => this.client.approleLogin({ role_id: roleId, secret_id: secretId, mount_point: a.mount || 'approle' }));
    }
    this.client.token = '';
    if (!res.ok) {
      this.reset();
      const why = res.status === 403 || res.status === 400 ? `${res.message}` : res.message;
      return { ok: false, message: `${this.describeAuth()} failed: ${why}` };
    }
    const auth = (res.body as { auth?: { client_token?: string; lease_duration?: number; renewable?: boolean } }).auth;
    if (!auth?.client_token) return { ok: false, message: `${this.describeAuth()} answered without a token` };
    this.adopt(auth.client_token, auth.lease_duration ?? 0, auth.renewable === true);
    return { ok: true, token: auth.client_token };
  }

  private adopt(token: string, ttlSeconds: number, renewable: boolean): void {
    this.remember(token);
    this.token = token;
    this.renewable = renewable;
    // Renew (or log in again) when three quarters of the lease have passed.
    this.renewAt = ttlSeconds > 0 ? this.now() + ttlSeconds * 750 : undefined;
  }

  private async tokenFromSources(): Promise<string | undefined> {
    const fromEnv = this.env.VAULT_TOKEN?.trim();
    if (fromEnv) return fromEnv;
    const home = this.env.HOME || os.homedir();
    try {
      const t = (await readFile(path.join(home, '.vault-token'), 'utf8')).trim();
      return t || undefined;
    } catch {
      return undefined;
    }
  }

  private k8sRole(): string | undefined {
    return this.auth.role || this.env.DAGSTER_VAULT_ROLE || undefined;
  }

  private k8sMount(): string {
    return this.auth.mount || this.env.DAGSTER_VAULT_MOUNT || 'kubernetes';
  }

  /** Runs one node-vault call and turns every failure into a status and a value-free message. */
  private async call(fn: () => Promise<unknown>): Promise<Outcome> {
    try {
      await this.connect();
      return { ok: true, body: await fn() };
    } catch (err) {
      // Vault's error strings are its own text; a proxy (or a Vault plugin) may echo the token in them.
      return describeError(err, this.timeoutMs, (t) => this.credentials.mask(t));
    }
  }
}

type Outcome = { ok: true; body: unknown } | { ok: false; status?: number; message: string; warnings?: string[] };

/**
 * A value-free description of what node-vault (or axios under it) threw. Only the status,
 * Vault's own error strings (masked with `mask`) and the network error code are used:
 * axios errors carry the request, headers (the token) included.
 */
function describeError(err: unknown, timeoutMs: number, mask: (text: string) => string): { ok: false; status?: number; message: string; warnings?: string[] } {
  const e = err as ApiError;
  const status = e?.response?.statusCode;
  if (typeof status === 'number') {
    const warnings = (e.response?.body?.warnings ?? []).filter((x): x is string => typeof x === 'string').map(mask);
    if (status === 404) return { ok: false, status, message: 'not found (404)', warnings };
    // Masked before they are cut to length: a cut would leave part of a credential unrecognised.
    const errors = (e.response?.body?.errors ?? []).filter((x): x is string => typeof x === 'string').map((x) => mask(cleanVaultError(x))).filter(Boolean);
    const said = errors.length > 0 ? `: ${errors.join('; ').slice(0, 300)}` : '';
    if (status === 503) {
      return { ok: false, status, message: /sealed/i.test(said) ? `Vault is sealed (503)` : `Vault is unavailable (503${said})` };
    }
    if (status === 403) return { ok: false, status, message: `permission denied (403${said && !/permission denied/i.test(said) ? said : ''})` };
    return { ok: false, status, message: `Vault answered ${status}${said}` };
  }
  const code = e?.code;
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED') return { ok: false, message: `Vault did not answer within ${Math.round(timeoutMs / 100) / 10}s` };
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return { ok: false, message: `Vault is unreachable (${code})` };
  }
  if (code && /CERT|SSL|TLS|SELF_SIGNED/i.test(code)) return { ok: false, message: `TLS error talking to Vault (${code}; set VAULT_CACERT to its CA file)` };
  if (code) return { ok: false, message: `request to Vault failed (${code})` };
  return { ok: false, message: `request to Vault failed` };
}

/** Vault 1.x wraps errors as "1 error occurred:\n\t* permission denied\n\n". */
function cleanVaultError(s: string): string {
  const items = [...s.matchAll(/\*\s*([^\n]+)/g)].map((m) => m[1]!.trim());
  return (items.length > 0 ? items.join('; ') : s).trim();
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}

const shared = new Map<string, VaultSession>();

/**
 * One session per Vault address and auth settings for the whole process, so a long-lived
 * `runner serve` logs in once and renews, instead of logging in for every run.
 */
export function sharedVaultSession(settings: VaultSettingsDef, processEnv: Record<string, string | undefined> = process.env): VaultSession {
  const key = JSON.stringify([settings.address, settings.namespace ?? '', settings.timeout ?? '', settings.auth ?? {}]);
  let s = shared.get(key);
  if (!s) {
    s = new VaultSession({ settings, processEnv });
    shared.set(key, s);
  }
  return s;
}
