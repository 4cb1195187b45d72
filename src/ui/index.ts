/**
 * The web UI of `runner serve`, on serve's port: the pages (one HTML shell for every
 * client-side route: `/`, `/assets/KEY`, `/runs`, `/runs/ID`, `/schedules`, `/launch`),
 * the app's files under `/static/`, and the JSON API under `/api/` (api.ts). Access rules
 * are guard.ts's; `/healthz`, `/readyz` and `/metrics` are serve's and stay open.
 *
 * `runner serve` calls {@link checkBind} before anything else (a non-loopback bind needs a
 * token: exit 2) and passes {@link uiMount} in its `mounts`.
 */
import type { RouteMount, ServeContext } from '../serve/daemon.js';
import type { RouteContext, RouteResponse } from '../serve/http.js';
import { resolveEnvironment } from '../definitions/environment.js';
import { Guard, SECURITY_HEADERS, checkBind, isLoopback } from './guard.js';
import { ResponseMasker } from './mask.js';
import { ManualRuns } from './runs.js';
import { RunStreams } from './stream.js';
import { findUiDir, pageHtml, readStatic } from './static.js';
import { jsonResponse, registerApi } from './api.js';

export { checkBind, isLoopback };
export { ManualRuns } from './runs.js';

/** Settings of the web UI. */
export interface UiOptions {
  /** The address serve binds to. */
  host: string;
  /** The access token (RUNNER_UI_TOKEN or --token); required off loopback. */
  token?: string;
  /** `runner serve --env`. */
  env?: string;
  /** The environment runs and `${env:..}` read (default process.env). */
  processEnv?: Record<string, string | undefined>;
  /** Where app.js and app.css are (default: found next to the build; null: not built). */
  uiDir?: string | null;
}

/** The paths that answer with the app's page (the app routes on the client). */
export const PAGE_ROUTES = ['/', '/assets', '/assets/*', '/runs', '/runs/:id', '/schedules', '/launch'];

/** The UI's routes as a serve mount. Throws InputError for a non-loopback bind without a token. */
export function uiMount(opts: UiOptions): RouteMount {
  const token = opts.token === '' ? undefined : opts.token;
  checkBind(opts.host, token);
  return (ctx: ServeContext) => mountUi(ctx, { ...opts, token });
}

function mountUi(ctx: ServeContext, opts: UiOptions): void {
  const processEnv = opts.processEnv ?? process.env;
  const guard = new Guard(opts.token);
  const masker = new ResponseMasker(ctx.defs, processEnv);
  const runs = new ManualRuns({ store: ctx.store, log: ctx.log, envFlag: opts.env, processEnv });
  const streams = new RunStreams();
  const uiDir = opts.uiDir === null ? undefined : (opts.uiDir ?? findUiDir());
  if (!uiDir) ctx.log.warn('the web UI is not built (run `npm run build`): its pages say so; the JSON API works');

  registerApi({ router: ctx.router, store: ctx.store, defs: ctx.defs, guard, masker, runs, streams, envFlag: opts.env, processEnv, cancelRun: ctx.cancelRun });

  const page = (c: RouteContext): RouteResponse => {
    const verdict = guard.check(c.req, c.url, 'page');
    if (!verdict.ok) return verdict.response;
    const env = resolveEnvironment(ctx.defs(), opts.env, processEnv);
    return {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' },
      body: pageHtml({ csrfToken: guard.csrfToken, env: env.ok ? env.value.name : '' }, uiDir !== undefined),
    };
  };
  for (const p of PAGE_ROUTES) ctx.router.get(p, page);

  // Every answer carries the security headers (probes, 404s and streams too); an unknown
  // page path gets the app's page with 404, which shows the app's not-found page.
  ctx.router.setDefaultHeaders(SECURITY_HEADERS);
  ctx.router.setFallback((c) => {
    const p = c.url.pathname;
    if ((c.method === 'GET' || c.method === 'HEAD') && !p.startsWith('/api/') && !p.startsWith('/static/')) {
      const out = page(c);
      return out.status === 200 ? { ...out, status: 404 } : out;
    }
    return jsonResponse(masker, 404, { error: `no such path: ${p}` });
  });

  ctx.router.get('/static/:file', (c) => {
    const verdict = guard.check(c.req, c.url, 'read');
    if (!verdict.ok) return verdict.response;
    const f = readStatic(uiDir, c.params['file']!);
    if (!f) return jsonResponse(masker, 404, { error: `no such file: ${c.url.pathname}` });
    return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': f.type, 'cache-control': 'no-cache' }, body: f.body };
  });

  // On shutdown: end live streams (so the HTTP server can close) and let UI-started runs finish within the grace period.
  ctx.onShutdown(async (graceMs) => {
    streams.closeAll();
    await runs.drain(graceMs);
  });
}
