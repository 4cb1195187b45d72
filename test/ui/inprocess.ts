/**
 * The web UI mounted in this test process, as `runner serve` mounts it: a Router with the
 * UI's routes over a real store and definitions, listening on 127.0.0.1 (port 0), without
 * the rest of serve (no ticking, no signals). HTTP helpers for its API.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { loadDefinitions } from '../../src/definitions/load.js';
import type { Definitions } from '../../src/definitions/model.js';
import { Store } from '../../src/storage/store.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { silentLogger } from '../../src/serve/log.js';
import { Router, listen, type RunningServer } from '../../src/serve/http.js';
import type { ServeContext } from '../../src/serve/daemon.js';
import type { ServeMetrics } from '../../src/serve/serve-metrics.js';
import { uiMount, type UiOptions } from '../../src/ui/index.js';

/** A mounted UI. */
export interface MountedUi {
  url: string;
  store: Store;
  defs: Definitions;
  server: RunningServer;
  /** Runs the shutdown hooks (ends streams, drains runs) and closes the server. */
  close(): Promise<void>;
}

/** Loads `pipelines`, opens the store at `home` and mounts the UI with `opts`. */
export async function mountUi(pipelines: string, home: string, opts: Partial<UiOptions> = {}): Promise<MountedUi> {
  const r = await loadDefinitions(pipelines);
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const defs = r.value;
  const store = Store.open(home);
  const router = new Router();
  const scheduler = new Scheduler({ db: store.db, launch: async () => ({ status: 'not_started', error: 'tests' }), log: silentLogger });
  scheduler.setDefinitions(defs);
  const hooks: Array<(graceMs: number) => Promise<void>> = [];
  const ctx: ServeContext = {
    router,
    store,
    scheduler,
    metrics: {} as ServeMetrics,
    log: silentLogger,
    defs: () => defs,
    cancelRun: () => false,
    onShutdown: (h) => void hooks.push(h),
  };
  await uiMount({ host: '127.0.0.1', ...opts })(ctx);
  const server = await listen(router, '127.0.0.1', 0);
  return {
    url: `http://127.0.0.1:${server.port}`,
    store,
    defs,
    server,
    close: async () => {
      await Promise.all(hooks.map((h) => h(2000)));
      await server.close();
      store.close();
    },
  };
}

/** An HTTP answer. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

/** One request (http.request, so any Host, Origin or Cookie header can be sent). */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const headers: Record<string, string> = { ...(body !== undefined && typeof opts.body !== 'string' ? { 'content-type': 'application/json' } : {}), ...opts.headers };
    const req = http.request(url, { method: opts.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The CSRF token of the page at `url`. */
export async function csrfOf(url: string, headers: Record<string, string> = {}): Promise<string> {
  const page = await request(url + '/', { headers });
  const m = /<meta name="csrf-token" content="([^"]+)">/.exec(page.text);
  if (!m) throw new Error(`no CSRF token in the page (HTTP ${page.status}): ${page.text.slice(0, 200)}`);
  return m[1]!;
}

/** A server-sent events stream, read into events until `until` says stop or the server ends it. */
export function readEvents(url: string, until: (events: Array<{ event: string; data: any }>) => boolean, timeoutMs = 20_000): Promise<Array<{ event: string; data: any; at: number }>> {
  return new Promise((resolve, reject) => {
    const events: Array<{ event: string; data: any; at: number }> = [];
    const req = http.get(url, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data !== undefined) events.push({ event, data: JSON.parse(data), at: Date.now() });
          if (until(events)) {
            req.destroy();
            resolve(events);
            return;
          }
        }
      });
      res.on('end', () => resolve(events));
    });
    req.on('error', (err) => (events.length > 0 ? resolve(events) : reject(err)));
    setTimeout(() => {
      req.destroy();
      reject(new Error(`timed out reading events (${events.map((e) => e.event).join(', ')})`));
    }, timeoutMs).unref();
  });
}

/** Writes a pipelines directory holding `yaml` as main.yaml; returns its path. */
export function writePipelines(root: string, yaml: string): string {
  const dir = path.join(root, 'pipelines');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.yaml'), yaml);
  return dir;
}

/** Resolves when `pred` holds (polling), or rejects after `timeoutMs`. */
export async function until<T>(what: string, pred: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
