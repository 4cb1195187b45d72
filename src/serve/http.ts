/**
 * The HTTP side of `runner serve` (node:http, no framework): a router of method + path
 * patterns (`/runs/:id`) to handlers that return a response value. `runner serve` mounts
 * `/healthz`, `/readyz` and `/metrics` on it; the web UI mounts its pages and API on the
 * same router, so everything shares one port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

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

  /** Answers one request (the server's request listener). */
  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    for (const [k, v] of Object.entries(this.defaults)) res.setHeader(k, v);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      send(res, method, json(400, { error: 'bad request' }));
      return;
    }
    const { route, params, allowed } = this.match(method, url.pathname);
    if (!route) {
      if (allowed.length > 0) send(res, method, json(405, { error: `method ${method} not allowed` }, { allow: [...new Set(allowed)].join(', ') }));
      else if (this.fallback) {
        const out = await this.fallback({ req, method, url, params: {} }, res);
        if (out) send(res, method, out);
      } else send(res, method, json(404, { error: `no such path: ${url.pathname}` }));
      return;
    }
    try {
      const out = await route.handler({ req, method, url, params }, res);
      if (out) send(res, method, out);
    } catch (err) {
      if (!res.headersSent) send(res, method, json(500, { error: err instanceof Error ? err.message : String(err) }));
      else res.destroy();
    }
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '*' && i === pattern.length - 1) {
      params['*'] = parts.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(part);
      } catch {
        return undefined;
      }
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

/** A listening server and how to stop it. */
export interface RunningServer {
  server: http.Server;
  /** The bound address (the port is the real one when 0 was asked for). */
  host: string;
  port: number;
  /** Stops accepting, ends idle keep-alive connections, resolves when closed. */
  close(): Promise<void>;
}

/** Starts an HTTP server for `router` on host:port; rejects when it cannot listen (port in use). */
export function listen(router: Router, host: string, port: number): Promise<RunningServer> {
  const server = http.createServer((req, res) => void router.handle(req, res));
  // Keep-alive connections would hold shutdown; scrapers reconnect cheaply.
  server.keepAliveTimeout = 5000;
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
