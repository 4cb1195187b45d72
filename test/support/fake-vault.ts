/**
 * A fake HashiCorp Vault on 127.0.0.1 (port 0) speaking the parts of Vault's HTTP API the
 * runner uses, with Vault's documented response shapes:
 *   GET  /v1/sys/health                       200, or 503 with `sealed: true`
 *   GET  /v1/auth/token/lookup-self           token data (ttl, renewable, policies)
 *   POST /v1/auth/token/renew-self            `auth` block with the new lease_duration
 *   POST /v1/auth/<mount>/login               Kubernetes ({role, jwt}) or AppRole ({role_id, secret_id})
 *   GET  /v1/<mount>/<path>                   KV v1: `data` is the secret
 *   GET  /v1/<mount>/data/<path>              KV v2: `data.data` is the secret, `data.metadata` its version
 * Errors are `{"errors": [...]}`: 403 permission denied (no/unknown/expired token, or a path
 * the token's policy does not allow), 404 `{"errors": []}`, 503 "Vault is sealed", 400 for a
 * bad login. Every request is recorded (method, path, whether a token was sent).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface FakeToken {
  /** Path prefixes (`mount/path`) this token may read; `*` reads all. */
  allow: string[];
  /** Seconds it lives (0: no expiry). */
  ttl: number;
  renewable: boolean;
  /** Expiry time (ms since epoch), when ttl > 0. */
  expiresAt?: number;
  revoked?: boolean;
  policies: string[];
}

export interface FakeVaultOptions {
  /** KV v1 mounts: mount → path → fields. */
  kv1?: Record<string, Record<string, Record<string, unknown>>>;
  /** KV v2 mounts: mount → path → fields of the current version. */
  kv2?: Record<string, Record<string, Record<string, unknown>>>;
  /** Static tokens (the `token` auth method). */
  tokens?: Record<string, Partial<FakeToken>>;
  /** Kubernetes auth mounts: mount → role → the service-account JWT it accepts and what its tokens may read. */
  kubernetes?: Record<string, Record<string, { jwt: string; allow?: string[]; ttl?: number; renewable?: boolean }>>;
  /** AppRole auth mounts: mount → role_id → its secret id and what its tokens may read. */
  approle?: Record<string, Record<string, { secretId: string; allow?: string[]; ttl?: number; renewable?: boolean }>>;
  sealed?: boolean;
  /** Never answer requests to these paths (without `/v1`), to test timeouts. */
  hang?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  token?: string;
  namespace?: string;
  body?: unknown;
}

/** A running fake Vault. */
export class FakeVault {
  readonly requests: RecordedRequest[] = [];
  readonly tokens = new Map<string, FakeToken>();
  sealed: boolean;
  url = '';
  private readonly server: http.Server;

  private constructor(readonly options: FakeVaultOptions) {
    this.sealed = options.sealed ?? false;
    for (const [t, spec] of Object.entries(options.tokens ?? {})) this.issue(spec, t);
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  /** Starts a fake Vault on a free loopback port. */
  static async start(options: FakeVaultOptions = {}): Promise<FakeVault> {
    const v = new FakeVault(options);
    await new Promise<void>((resolve) => v.server.listen(0, '127.0.0.1', resolve));
    v.url = `http://127.0.0.1:${(v.server.address() as AddressInfo).port}`;
    return v;
  }

  /** Requests to `path` (without `/v1`), or all. */
  calls(path?: string | RegExp): RecordedRequest[] {
    if (path === undefined) return this.requests;
    return this.requests.filter((r) => (typeof path === 'string' ? r.path === path : path.test(r.path)));
  }

  /** Makes every issued token expired, as when their leases end. */
  expireAll(): void {
    for (const t of this.tokens.values()) t.expiresAt = Date.now() - 1;
  }

  /** Issues a token (what a login returns). */
  issue(spec: Partial<FakeToken>, token = `hvs.${randomUUID().replace(/-/g, '')}`): string {
    const ttl = spec.ttl ?? 0;
    this.tokens.set(token, {
      allow: spec.allow ?? ['*'],
      ttl,
      renewable: spec.renewable ?? ttl > 0,
      expiresAt: ttl > 0 ? Date.now() + ttl * 1000 : undefined,
      policies: spec.policies ?? ['default'],
    });
    return token;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/v1\//, '');
    const token = header(req, 'x-vault-token');
    this.requests.push({ method: req.method ?? 'GET', path, token, namespace: header(req, 'x-vault-namespace'), body });
    if (this.options.hang?.includes(path)) return; // never answers
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const errors = (status: number, ...errs: string[]) => send(status, { errors: errs });

    if (path === 'sys/health') {
      const h = { initialized: true, sealed: this.sealed, standby: false, performance_standby: false, replication_performance_mode: 'disabled', replication_dr_mode: 'disabled', server_time_utc: Math.floor(Date.now() / 1000), version: '1.15.0', cluster_name: 'vault-cluster-fake', cluster_id: 'fake' };
      return send(this.sealed ? 503 : 200, this.sealed ? { ...h, cluster_name: undefined, cluster_id: undefined } : h);
    }
    if (this.sealed) return errors(503, 'Vault is sealed');

    const login = /^auth\/(.+)\/login$/.exec(path);
    if (login && req.method === 'POST') return this.login(login[1]!, body as Record<string, unknown> | undefined, send, errors);

    // Everything else needs a valid token.
    const t = token ? this.tokens.get(token) : undefined;
    if (!t || t.revoked || (t.expiresAt !== undefined && Date.now() > t.expiresAt)) {
      // Vault 1.10+ answers an unknown or expired token like this.
      return errors(403, '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n');
    }
    if (path === 'auth/token/lookup-self' && req.method === 'GET') {
      const now = Math.floor(Date.now() / 1000);
      const ttl = t.expiresAt ? Math.max(0, Math.floor((t.expiresAt - Date.now()) / 1000)) : 0;
      return send(200, {
        request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, wrap_info: null, warnings: null, auth: null,
        data: { accessor: 'acc', creation_time: now, creation_ttl: t.ttl, display_name: 'token', entity_id: '', expire_time: t.expiresAt ? new Date(t.expiresAt).toISOString() : null, explicit_max_ttl: 0, id: token, issue_time: new Date().toISOString(), meta: null, num_uses: 0, orphan: true, path: 'auth/token/create', policies: t.policies, renewable: t.renewable, ttl, type: 'service' },
      });
    }
    if (path === 'auth/token/renew-self' && req.method === 'POST') {
      if (!t.renewable) return errors(400, 'lease is not renewable');
      t.expiresAt = Date.now() + t.ttl * 1000;
      return send(200, { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data: null, wrap_info: null, warnings: null, auth: { client_token: token, accessor: 'acc', policies: t.policies, token_policies: t.policies, metadata: null, lease_duration: t.ttl, renewable: true, entity_id: '', token_type: 'service', orphan: true } });
    }
    if (req.method !== 'GET') return errors(405, 'unsupported operation');

    // KV reads.
    for (const [mount, paths] of Object.entries(this.options.kv2 ?? {})) {
      if (!path.startsWith(`${mount}/`)) continue;
      const rest = path.slice(mount.length + 1);
      if (!rest.startsWith('data/')) return send(404, { errors: [], warnings: [`Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' for this operation.`] });
      const p = rest.slice('data/'.length);
      if (!allowed(t, `${mount}/${p}`)) return errors(403, '1 error occurred:\n\t* permission denied\n\n');
      const data = paths[p];
      if (!data) return send(404, { errors: [] });
      return send(200, { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data: { data, metadata: { created_time: '2024-01-01T00:00:00.000000Z', custom_metadata: null, deletion_time: '', destroyed: false, version: 3 } }, wrap_info: null, warnings: null, auth: null });
    }
    for (const [mount, paths] of Object.entries(this.options.kv1 ?? {})) {
      if (!path.startsWith(`${mount}/`)) continue;
      const p = path.slice(mount.length + 1);
      if (!allowed(t, `${mount}/${p}`)) return errors(403, 'permission denied');
      const data = paths[p];
      if (!data) return send(404, { errors: [] });
      return send(200, { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 2764800, data, wrap_info: null, warnings: null, auth: null });
    }
    // No such mount: Vault checks the policy first.
    return errors(403, '1 error occurred:\n\t* permission denied\n\n');
  }

  private login(mount: string, body: Record<string, unknown> | undefined, send: (s: number, p: unknown) => void, errors: (s: number, ...e: string[]) => void): void {
    const k8s = this.options.kubernetes?.[mount];
    if (k8s) {
      const role = body?.role;
      const jwt = body?.jwt;
      if (typeof role !== 'string' || !role) return errors(400, 'missing role');
      if (typeof jwt !== 'string' || !jwt) return errors(400, 'missing jwt');
      const r = k8s[role];
      if (!r) return errors(400, `invalid role name "${role}"`);
      if (r.jwt !== jwt) return errors(403, 'permission denied');
      const ttl = r.ttl ?? 3600;
      const token = this.issue({ allow: r.allow, ttl, renewable: r.renewable ?? true });
      return send(200, authResponse(token, ttl, r.renewable ?? true, { role, service_account_name: 'runner', service_account_namespace: 'data', service_account_secret_name: '', service_account_uid: 'uid' }));
    }
    const ar = this.options.approle?.[mount];
    if (ar) {
      const roleId = body?.role_id;
      if (typeof roleId !== 'string' || !roleId) return errors(400, 'missing role_id');
      const r = ar[roleId];
      if (!r) return errors(400, 'invalid role ID');
      if (body?.secret_id !== r.secretId) return errors(400, 'invalid secret id');
      const ttl = r.ttl ?? 3600;
      const token = this.issue({ allow: r.allow, ttl, renewable: r.renewable ?? true });
      return send(200, authResponse(token, ttl, r.renewable ?? true, { role_name: 'runner' }));
    }
    return errors(400, `no handler for route "auth/${mount}/login". route entry not found.`);
  }
}

function authResponse(token: string, ttl: number, renewable: boolean, metadata: Record<string, string>): unknown {
  return {
    request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data: null, wrap_info: null, warnings: null,
    auth: { client_token: token, accessor: randomUUID(), policies: ['default', 'runner'], token_policies: ['default', 'runner'], metadata, lease_duration: ttl, renewable, entity_id: randomUUID(), token_type: 'service', orphan: true, mfa_requirement: null, num_uses: 0 },
  };
}

function allowed(t: FakeToken, p: string): boolean {
  return t.allow.some((a) => a === '*' || p === a || p.startsWith(a.endsWith('/') ? a : `${a}/`));
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
