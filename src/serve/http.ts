/**
 * The HTTP side of `runner serve` (node:http, no framework): a router of method + path
 * patterns (`/runs/:id`) to handlers that return a response value. `runner serve` mounts
 * `/healthz`, `/readyz` and `/metrics` on it; the web UI mounts its pages and API on the
 * same router, so everything shares one port.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { requestScope } from './last-resort.js';

/** A request as handlers see it. */
export interface RouteContext {
  req: http.IncomingMessage;
  method: string;
  url: URL;
  /** Values of `:name` segments of the pattern, decoded. */
  params: Record<string, string>;
}

/** What a handler answers. */
export interface RouteResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string, bytes, or a value sent as JSON. */
  body?: string | Buffer | { json: unknown };
}

/** A route handler; it may write to `res` itself and return undefined (streams, server-sent events). */
export type RouteHandler = (ctx: RouteContext, res: http.ServerResponse) => RouteResponse | undefined | Promise<RouteResponse | undefined>;

interface Route {
  method: string;
  segments: string[];
  handler: RouteHandler;
}

/** A JSON response. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): RouteResponse {
  return { status, headers, body: { json: value } };
}

/** A plain text response. */
export function text(status: number, value: string, contentType = 'text/plain; charset=utf-8'): RouteResponse {
  return { status, headers: { 'content-type': contentType }, body: value };
}

function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s.length > 0);
}

/** Method + path pattern routing; `GET` routes also answer `HEAD`. */
export class Router {
  private readonly routes: Route[] = [];
  /** Headers every answer carries unless the handler sets them (the web UI's security headers). */
  private defaults: Record<string, string> = {};
  /** Answers a path no route matches (the web UI's not-found page); a JSON 404 without it. */
  private fallback: RouteHandler | undefined;

  /** Sets headers that every answer carries, probes, 404s and streams included. */
  setDefaultHeaders(headers: Readonly<Record<string, string>>): this {
    this.defaults = { ...headers };
    return this;
  }
  /** Sets the handler of unmatched paths (405s stay the router's). */
  setFallback(handler: RouteHandler): this {
    this.fallback = handler;
    return this;
  }

  /** Adds a route; `pattern` segments starting with `:` capture, a final `*` captures the rest as `params['*']`. */
  add(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method: method.toUpperCase(), segments: splitPath(pattern), handler });
    return this;
  }
  /** A GET (and HEAD) route. */
  get(pattern: string, handler: RouteHandler): this {
    return this.add('GET', pattern, handler);
  }
  /** A POST route. */
  post(pattern: string, handler: RouteHandler): this {
    return this.add('POST', pattern, handler);
  }

  /** The route for a method and path, with its params; `allowed` lists methods of a path that matched otherwise. */
  match(method: string, pathname: string): { route?: Route; params: Record<string, string>; allowed: string[] } {
    const parts = splitPath(pathname);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params, allowed };
      allowed.push(route.method);
    }
    return { params: {}, allowed };
  }

  /**
   * Answers one request (the server's request listener). Never rejects: a malformed
   * request gets a 4xx, a handler that throws gets a 500 (or its connection closed when it
   * had started answering).
   */
  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    for (const [k, v] of Object.entries(this.defaults)) res.setHeader(k, v);
    try {
      const out = await this.answer(req, res, method);
      if (out) send(res, method, out);
    } catch (err) {
      if (res.headersSent || !trySend(res, method, json(500, { error: err instanceof Error ? err.message : String(err) }))) res.destroy();
    }
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse, method: string): Promise<RouteResponse | undefined> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return json(400, { error: 'bad request: the request target is not a valid path' });
    }
    // A '/' never sits inside a UTF-8 sequence, so the path decodes as a whole iff every segment does.
    if (safeDecode(url.pathname) === undefined) return json(400, { error: 'bad request: malformed percent-encoding in the path' });
    const { route, params, allowed } = this.match(method, url.pathname);
    if (!route) {
      if (allowed.length > 0) return json(405, { error: `method ${method} not allowed` }, { allow: [...new Set(allowed)].join(', ') });
      if (this.fallback) return this.fallback({ req, method, url, params: {} }, res);
      return json(404, { error: `no such path: ${url.pathname}` });
    }
    return route.handler({ req, method, url, params }, res);
  }
}

/** `decodeURIComponent`, or undefined for a malformed escape (`%zz`, `%E0%A4%A`, a lone surrogate). */
export function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '*' && i === pattern.length - 1) {
      const rest = safeDecode(parts.slice(i).join('/'));
      if (rest === undefined) return undefined;
      params['*'] = rest;
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (p.startsWith(':')) {
      const v = safeDecode(part);
      if (v === undefined) return undefined;
      params[p.slice(1)] = v;
    } else if (p !== part) return undefined;
  }
  return parts.length === pattern.length ? params : undefined;
}

function send(res: http.ServerResponse, method: string, out: RouteResponse): void {
  const headers: Record<string, string> = { 'cache-control': 'no-store', ...out.headers };
  let body: string | Buffer = '';
  if (out.body !== undefined) {
    if (typeof out.body === 'string' || Buffer.isBuffer(out.body)) body = out.body;
    else {
      body = JSON.stringify(out.body.json, null, 2) + '\n';
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(out.status, headers);
  res.end(method === 'HEAD' ? undefined : body);
}

/** `send`, false when it could not (a header value a handler built is invalid, the socket is gone). */
function trySend(res: http.ServerResponse, method: string, out: RouteResponse): boolean {
  try {
    send(res, method, out);
    return true;
  } catch {
    return false;
  }
}

/** A listening server and how to stop it. */
export interface RunningServer {
  server: http.Server;
  /** The bound address (the port is the real one when 0 was asked for). */
  host: string;
  port: number;
  /** Stops accepting, ends idle keep-alive connections, resolves when closed. */
  close(): Promise<void>;
}

/** How long a client may take to send its request headers (a slow client then gets 408). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** How long a client may take to send its whole request, body included. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How long an idle keep-alive connection stays open. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** The largest request head node:http accepts (its default); a larger one gets 431. */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Starts an HTTP server for `router` on host:port; rejects when it cannot listen (port in
 * use). Each request runs in {@link requestScope}, so that the last-resort guard can tell
 * an error of a request from one of the daemon. Requests node:http cannot parse (an invalid
 * method, headers over {@link MAX_HEADER_BYTES}, a client too slow to send them) are
 * answered 400, 431 or 408 and their connection closed.
 */
export function listen(router: Router, host: string, port: number): Promise<RunningServer> {
  // Timeouts are checked every second (node's default: 30 s), so a stalled client is cut off soon after its time.
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000 }, (req, res) => {
    requestScope.run({ method: req.method ?? '?', path: req.url ?? '?', res }, () => {
      router.handle(req, res).catch(() => res.destroy());
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // As node:http does without a listener: answer only when nothing was written yet (no pipelined response started).
    if (!socket.writable || (socket as Socket).bytesWritten > 0) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  // Longer than the idle timeouts of what sits in front (a Kubernetes ingress keeps upstream
  // connections 60 s) and of clients that pool connections: a server that closes an idle
  // connection first races the next request sent on it (the client gets ECONNRESET, a proxy
  // answers 502). Shutdown closes idle connections at once (close() ends them).
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      resolve({
        server,
        host: addr.address,
        port: addr.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}
