/**
 * Who may use the web UI, and how state changes are protected.
 *
 * - Loopback by default. On any other address a token is required (`RUNNER_UI_TOKEN` or
 *   `runner serve --token`); serve refuses to start without one. A request proves it with
 *   `Authorization: Bearer TOKEN`, or with the session cookie that a first page load with
 *   `?token=TOKEN` sets (HttpOnly, SameSite=Strict; it holds an HMAC of the token, not
 *   the token, and the time it was issued: it lasts {@link SESSION_MAX_AGE_S}; `Secure` when
 *   the request came over HTTPS, see {@link viaHttps}). A token given on a loopback bind
 *   is required the same way.
 * - Without a token (loopback), the `Host` header must name a loopback host, so a web
 *   page whose DNS name rebinds to 127.0.0.1 cannot read the API.
 * - State-changing calls are POSTs that need the per-process CSRF token (delivered in the
 *   page) in `X-CSRF-Token`, and are refused when `Origin` or `Sec-Fetch-Site` say the
 *   request comes from another site. A call authenticated by the `Authorization` header
 *   (a script, not a browser session) needs no CSRF token: no other site can send it.
 *
 * `/healthz`, `/readyz` and `/metrics` are serve's own routes and never pass through here.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type http from 'node:http';
import { InputError } from '../diagnostics/diagnostic.js';
import type { RouteResponse } from '../serve/http.js';

/** The name of the session cookie. */
export const SESSION_COOKIE = 'runner_ui_session';
/** How long a session lasts: the cookie's Max-Age, and the age past which its value is refused. */
export const SESSION_MAX_AGE_S = 7 * 24 * 3600;

/**
 * Whether the request came over HTTPS: the connection is TLS, or a proxy in front says so
 * with `X-Forwarded-Proto: https` (its first value).
 */
export function viaHttps(req: http.IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted === true) return true;
  const fwd = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

/** Headers every UI response carries. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** True for `localhost`, `127.0.0.0/8`, `::1` (and `::ffff:127.x`). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Refuses a non-loopback bind without a token: the message `runner serve` exits 2 with.
 * Also refuses a token too short to resist guessing.
 */
export function checkBind(host: string, token: string | undefined): void {
  if (token !== undefined && token !== '' && token.length < 16) {
    throw new InputError('the web UI token (RUNNER_UI_TOKEN or --token) must be at least 16 characters long; e.g. `openssl rand -hex 24`');
  }
  if (isLoopback(host) || (token !== undefined && token !== '')) return;
  throw new InputError(
    `refusing to serve the web UI on ${host}, which is not a loopback address, without a token: set RUNNER_UI_TOKEN (or pass --token) and open the UI once with ?token=TOKEN; or bind to 127.0.0.1`,
  );
}

/** The host part of a `Host` header (`[::1]:3070` → `::1`). */
export function hostName(header: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (m) return m[1]!;
  const colon = header.lastIndexOf(':');
  return colon > 0 && header.indexOf(':') === colon ? header.slice(0, colon) : header;
}

function sameSecret(a: string, b: string): boolean {
  const ha = createHmac('sha256', 'runner-ui-compare').update(a).digest();
  const hb = createHmac('sha256', 'runner-ui-compare').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function cookies(req: http.IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** What a guarded route is. */
export type Access = 'page' | 'read' | 'write';

/** The outcome of the guard: go on (and how the caller was authenticated), or this refusal. */
export type Verdict = { ok: true; bearer: boolean } | { ok: false; response: RouteResponse };

/** The access rules of one serve process. */
export class Guard {
  /** The per-process CSRF token, put in every page. */
  readonly csrfToken: string;

  constructor(
    private readonly token: string | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.csrfToken = randomBytes(24).toString('base64url');
  }

  /** The cookie value for a session issued at `issuedS` (seconds): the time and an HMAC of it keyed by the token, so a leaked cookie does not leak the token and expires. */
  private sessionValue(issuedS: number): string {
    return `${issuedS}.${createHmac('sha256', this.token!).update(`runner ui session v2 ${issuedS}`).digest('base64url')}`;
  }

  /** Whether a token is required. */
  get tokenRequired(): boolean {
    return this.token !== undefined;
  }

  /** Checks one request; `url` is the parsed request URL. */
  check(req: http.IncomingMessage, url: URL, access: Access): Verdict {
    let bearer = false;
    if (this.token === undefined) {
      const host = req.headers.host;
      if (!host || !isLoopback(hostName(host))) return refuse(access, 403, 'this runner serves loopback names only (a token is required to serve other names); open http://127.0.0.1:PORT/');
    } else {
      const auth = req.headers.authorization;
      const m = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
      if (m && sameSecret(m[1]!, this.token)) bearer = true;
      else if (!this.hasSession(req)) {
        const q = url.searchParams.get('token');
        if (access === 'page' && q !== null && sameSecret(q, this.token)) return { ok: false, response: this.login(req, url) };
        return refuse(access, 401, 'a token is required: open the page with ?token=TOKEN once, or send Authorization: Bearer TOKEN');
      }
    }
    if (access === 'write') {
      const problem = this.crossSite(req) ?? (bearer ? undefined : this.csrfProblem(req));
      if (problem) return refuse(access, 403, problem);
    }
    return { ok: true, bearer };
  }

  private hasSession(req: http.IncomingMessage): boolean {
    const c = cookies(req).get(SESSION_COOKIE);
    const m = c === undefined || this.token === undefined ? null : /^(\d{1,12})\./.exec(c);
    if (!m) return false;
    const issued = Number(m[1]);
    const age = this.now() / 1000 - issued;
    return age >= -60 && age <= SESSION_MAX_AGE_S && sameSecret(c!, this.sessionValue(issued));
  }

  /** Sets the session cookie (`Secure` when the request came over HTTPS) and sends the browser to the same page without the token in its address. */
  private login(req: http.IncomingMessage, url: URL): RouteResponse {
    const clean = new URL(url.href);
    clean.searchParams.delete('token');
    const location = clean.pathname + (clean.search === '?' ? '' : clean.search);
    const value = this.sessionValue(Math.floor(this.now() / 1000));
    const secure = viaHttps(req) ? '; Secure' : '';
    return {
      status: 303,
      headers: { ...SECURITY_HEADERS, location, 'set-cookie': `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MAX_AGE_S}${secure}` },
      body: '',
    };
  }

  private crossSite(req: http.IncomingMessage): string | undefined {
    const site = req.headers['sec-fetch-site'];
    if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `cross-site request refused (Sec-Fetch-Site: ${site})`;
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host === undefined || host !== req.headers.host) return `cross-origin request refused (Origin: ${origin})`;
    return undefined;
  }

  private csrfProblem(req: http.IncomingMessage): string | undefined {
    const sent = req.headers['x-csrf-token'];
    if (typeof sent !== 'string' || sent === '') return 'missing X-CSRF-Token header (reload the page)';
    if (!sameSecret(sent, this.csrfToken)) return 'bad X-CSRF-Token (the runner restarted? reload the page)';
    return undefined;
  }
}

function refuse(access: Access, status: number, message: string): Verdict {
  if (access === 'page') {
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>runner: ${status === 401 ? 'token required' : 'refused'}</title></head><body><h1>${status === 401 ? 'Token required' : 'Refused'}</h1><p>${escapeHtml(message)}</p></body></html>`;
    return { ok: false, response: { status, headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' }, body: html } };
  }
  return { ok: false, response: { status, headers: { ...SECURITY_HEADERS }, body: { json: { error: message } } } };
}

/** Escapes text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
