/**
 * The web UI's JSON API under `/api/` (docs/api.md, "Web UI"). Documents are the ones the
 * CLI prints with `--json` (`runner list`, `runner graph --format json`, `runner runs`,
 * `runner show`, `runner schedule list|history`), plus what only the UI needs: each
 * asset's last step, an asset's masked config, the launch preview, a run's live stream.
 * Every body passes through the response masker; reads are GETs, changes are POSTs.
 */
import type http from 'node:http';
import { stringify as toYaml } from 'yaml';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { InputError } from '../diagnostics/diagnostic.js';
import type { Definitions } from '../definitions/model.js';
import { RUN_STATUSES, type RunStatus } from '../definitions/model.js';
import type { Router, RouteContext, RouteResponse } from '../serve/http.js';
import type { Store } from '../storage/store.js';
import { listDocument } from '../cli/list-view.js';
import { graphDocument } from '../cli/graph-view.js';
import { select } from '../selection/index.js';
import { selectionContext } from '../cli/selection.js';
import { substituteDeep } from '../definitions/interpolate.js';
import { buildPlan, renderStep } from '../execution/plan.js';
import { getHandler } from '../handlers/registry.js';
import { resolveEnvironment } from '../definitions/environment.js';
import { changeScheduleStatus, findSchedule, scheduleHistory, scheduleList } from '../schedule/commands.js';
import { SECURITY_HEADERS, type Access, type Guard } from './guard.js';
import type { ResponseMasker } from './mask.js';
import { ManualRuns } from './runs.js';
import { mergedLog } from './all-logs.js';
import type { RunStreams } from './stream.js';
import { countRuns, currentSteps, filterRuns, lastSteps, triggerNames } from './queries.js';

/** What the API routes use. */
export interface ApiDeps {
  router: Router;
  store: Store;
  defs: () => Definitions;
  guard: Guard;
  masker: ResponseMasker;
  runs: ManualRuns;
  /** Cancels a run serve runs itself (a schedule's, or one carried on after a restart); false when it does not. */
  cancelRun?: (runId: string, reason: Error) => boolean;
  streams: RunStreams;
  /** `runner serve --env`. */
  envFlag?: string;
  processEnv: Record<string, string | undefined>;
}

/** A JSON response, masked, with the UI's security headers. */
export function jsonResponse(masker: ResponseMasker, status: number, value: unknown, headers: Record<string, string> = {}): RouteResponse {
  return {
    status,
    headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers },
    body: masker.mask(JSON.stringify(value, null, 2)) + '\n',
  };
}

/** The error document: `{"error": text, "diagnostics": [{message, detail?, pos?}]}`. */
export function errorBody(ds: Diagnostic[]): { error: string; diagnostics: Diagnostic[] } {
  return { error: ds.map((d) => [d.message, ...(d.detail ?? [])].join('\n')).join('\n'), diagnostics: ds };
}

type Handler = (ctx: RouteContext, res: http.ServerResponse) => RouteResponse | undefined | Promise<RouteResponse | undefined>;

const MAX_BODY = 64 * 1024;

async function readJsonBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new InputError('send a JSON body (Content-Type: application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new InputError('the request body is too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError('the request body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError('the request body must be a JSON object');
  return value as Record<string, unknown>;
}

function intParam(url: URL, name: string, fallback: number, max: number): number {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return fallback;
  if (!/^[0-9]+$/.test(v) || Number(v) < 1) throw new InputError(`${name} must be a positive integer, not \`${v}\``);
  return Math.min(Number(v), max);
}

/** An ISO 8601 time parameter (`2024-05-01` or `2024-05-01T12:00:00Z`) as the store's UTC form, or undefined. */
function timeParam(url: URL, name: string): string | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  const t = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new InputError(`${name} must be an ISO 8601 time such as 2024-05-01 or 2024-05-01T12:00:00Z, not \`${v}\``);
  return new Date(t).toISOString();
}

/** Adds the API routes to the router. */
export function registerApi(d: ApiDeps): void {
  const { router, store, masker } = d;
  const send = (status: number, value: unknown) => jsonResponse(masker, status, value);
  /** Wraps a handler with the guard and turns bad input into 400 (unknown things into 404). */
  const route = (method: 'GET' | 'POST', pattern: string, access: Access, h: Handler): void => {
    router.add(method, pattern, async (ctx, res) => {
      const verdict = d.guard.check(ctx.req, ctx.url, access);
      if (!verdict.ok) return verdict.response;
      try {
        return await h(ctx, res);
      } catch (err) {
        if (err instanceof NotFound) return send(404, { error: err.message });
        if (err instanceof InputError) return send(400, errorBody(err.diagnostics));
        if (res.headersSent) throw err;
        return send(500, { error: err instanceof Error ? err.message : String(err) });
      }
    });
  };

  route('GET', '/api/info', 'read', () => {
    const env = resolveEnvironment(d.defs(), d.envFlag, d.processEnv);
    return send(200, { env: env.ok ? env.value.name : null, token_required: d.guard.tokenRequired, pipelines: d.defs().dir });
  });

  // --- definitions -------------------------------------------------------------------
  route('GET', '/api/list', 'read', async (ctx) => send(200, await listDocument(d.defs(), ctx.url.searchParams.get('select') ?? undefined)));
  route('GET', '/api/graph', 'read', (ctx) => send(200, graphDocument(d.defs(), ctx.url.searchParams.get('select') ?? undefined)));

  route('GET', '/api/assets', 'read', async () => {
    const defs = d.defs();
    const doc = await listDocument(defs);
    store.flush();
    const last = lastSteps(store.db);
    const current = currentSteps(store.db);
    return send(200, { assets: doc.assets.map((a) => ({ ...a, last: last.get(a.key) ?? null, current: current.get(a.key) ?? null })) });
  });

  route('GET', '/api/assets/*', 'read', async (ctx) => {
    const defs = d.defs();
    const key = ctx.params['*']!.replaceAll('__', '/');
    const asset = defs.assets.get(key);
    if (!asset) throw new NotFound(`unknown asset \`${key}\``);
    const env = resolveEnvironment(defs, d.envFlag, d.processEnv);
    // `${secret:..}` become `***`; the response masker catches a secret that got in another way.
    const config = env.ok ? substituteDeep(asset.config, { env: d.processEnv, vars: env.value.vars, secrets: 'mask' }).value : asset.config;
    let rendered: unknown;
    const handler = getHandler(asset.handler);
    if (!env.ok) rendered = { error: errorBody(env.diagnostics).error };
    else if (!handler) rendered = { error: `unknown handler \`${asset.handler}\`` };
    else {
      try {
        const step = buildPlan([key], defs.assets, defs.graph).steps[0]!;
        rendered = renderStep(step, handler, env.value, defs.projectDir, d.processEnv);
      } catch (err) {
        rendered = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    const doc = (await listDocument(defs)).assets.find((a) => a.key === key);
    store.flush();
    return send(200, {
      asset: {
        ...doc,
        dependents: [...defs.graph.children(key)],
        retry: asset.retry ?? null,
        timeout_ms: asset.timeoutMs ?? null,
        pool: asset.pool ?? null,
        file: asset.pos.file,
      },
      env: env.ok ? env.value.name : null,
      config,
      config_yaml: toYaml(config, { lineWidth: 0 }),
      rendered,
      last: lastSteps(store.db).get(key) ?? null,
      runs: filterRuns(store, { asset: key, limit: 20 }),
    });
  });

  route('GET', '/api/select', 'read', (ctx) => {
    const q = ctx.url.searchParams.get('q') ?? '';
    const needsStatus = /status\s*:/i.test(q);
    const statuses = needsStatus ? store.lastStepStatuses() : undefined;
    const r = select(q, selectionContext(d.defs(), statuses ? (k) => statuses.get(k) : undefined));
    return r.ok ? send(200, { selection: q, keys: r.value }) : send(400, errorBody(r.diagnostics));
  });

  route('GET', '/api/plan', 'read', (ctx) => {
    const p = d.runs.prepare(d.defs(), { select: ctx.url.searchParams.get('select') ?? undefined, job: ctx.url.searchParams.get('job') ?? undefined });
    return p.ok ? send(200, ManualRuns.document(p.value)) : send(400, errorBody(p.diagnostics));
  });

  // --- runs --------------------------------------------------------------------------
  route('GET', '/api/runs', 'read', (ctx) => {
    const status = ctx.url.searchParams.get('status') || undefined;
    if (status !== undefined && !RUN_STATUSES.includes(status as RunStatus)) throw new InputError(`status must be one of ${RUN_STATUSES.join(', ')}, not \`${status}\``);
    const filter = {
      status: status as RunStatus | undefined,
      trigger: ctx.url.searchParams.get('trigger') || undefined,
      asset: ctx.url.searchParams.get('asset')?.replaceAll('__', '/') || undefined,
      since: timeParam(ctx.url, 'since'),
      until: timeParam(ctx.url, 'until'),
      limit: intParam(ctx.url, 'limit', 50, 500),
      offset: ctx.url.searchParams.get('offset') === '0' ? 0 : intParam(ctx.url, 'offset', 0, Number.MAX_SAFE_INTEGER),
    };
    const runs = filterRuns(store, filter);
    const total = countRuns(store, filter);
    const next = filter.offset + runs.length;
    return send(200, { runs, total, offset: filter.offset, next_offset: next < total ? next : null });
  });

  route('GET', '/api/triggers', 'read', () => send(200, { schedules: [...new Set([...d.defs().schedules.keys(), ...triggerNames(store.db)])].sort() }));

  route('POST', '/api/runs', 'write', async (ctx) => {
    const body = await readJsonBody(ctx.req);
    const pick = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
    const r = d.runs.start(d.defs(), { select: pick('select'), job: pick('job') });
    if (!r.ok) return send(400, errorBody(r.diagnostics));
    return send(201, { run_id: r.value.runId, url: `/runs/${r.value.runId}` });
  });

  const runOr404 = (id: string) => {
    const r = store.findRun(id);
    if (!r.ok) throw new NotFound(r.diagnostics.map((x) => x.message).join('\n'));
    return r.value;
  };

  route('GET', '/api/runs/:id', 'read', (ctx) => send(200, runOr404(ctx.params['id']!)));
  route('GET', '/api/runs/:id/events', 'read', (ctx) => {
    const run = runOr404(ctx.params['id']!);
    return send(200, { events: store.listEvents(run.id) });
  });

  route('GET', '/api/runs/:id/log/*', 'read', async (ctx, res) => {
    const run = runOr404(ctx.params['id']!);
    const key = ctx.params['*']!.replaceAll('__', '/');
    const step = run.steps.find((s) => s.key === key);
    if (!step) throw new NotFound(`run ${run.id} has no step \`${key}\``);
    const { createReadStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    const { Transform } = await import('node:stream');
    const { StringDecoder } = await import('node:string_decoder');
    const decoder = new StringDecoder('utf8');
    let held = '';
    // Masked line by line, so a secret is never cut in two between chunks.
    const mask = new Transform({
      transform(chunk: Buffer, _enc, done) {
        const text = held + decoder.write(chunk);
        const cut = text.lastIndexOf('\n');
        held = cut >= 0 ? text.slice(cut + 1) : text;
        done(null, cut >= 0 ? masker.mask(text.slice(0, cut + 1)) : '');
      },
      flush(done) {
        done(null, masker.mask(held + decoder.end()));
      },
    });
    const file = createReadStream(step.log);
    const opened = await new Promise<boolean>((resolve) => {
      file.once('open', () => resolve(true));
      file.once('error', () => resolve(false));
    });
    if (!opened) return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body: '' };
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    await pipeline(file, mask, res).catch(() => undefined);
    return undefined;
  });

  route('GET', '/api/runs/:id/logs', 'read', async (ctx) => {
    const run = runOr404(ctx.params['id']!);
    store.flush();
    const m = masker.snapshot();
    return send(200, await mergedLog(run, (t) => m.mask(t)));
  });

  route('GET', '/api/runs/:id/stream', 'read', async (ctx, res) => {
    if (d.streams.isClosing) return send(503, { error: 'runner serve is shutting down' });
    const run = runOr404(ctx.params['id']!);
    const key = ctx.url.searchParams.get('key')?.replaceAll('__', '/') || undefined;
    await d.streams.serve(ctx.req, res, { store, runId: run.id, key, mask: (t) => masker.mask(t) }, { ...SECURITY_HEADERS });
    return undefined;
  });

  // "Re-run failed": a new run of the steps that did not succeed (execution/rerun.ts).
  route('POST', '/api/runs/:id/retry', 'write', (ctx) => {
    const run = runOr404(ctx.params['id']!);
    const r = d.runs.retry(d.defs(), run);
    if (!r.ok) return send(r.refusal.kind === 'conflict' ? 409 : 400, errorBody(r.refusal.diagnostics));
    return send(201, { run_id: r.runId, url: `/runs/${r.runId}`, retry_of: run.id });
  });

  route('POST', '/api/runs/:id/cancel', 'write', (ctx) => {
    const run = runOr404(ctx.params['id']!);
    if (!d.runs.cancel(run.id) && !d.cancelRun?.(run.id, new Error('canceled from the web UI'))) {
      return send(409, { error: `run ${run.id} is not running in this runner serve (a run another runner runs is canceled there)` });
    }
    return send(202, { run_id: run.id, canceling: true });
  });

  // --- schedules ---------------------------------------------------------------------
  route('GET', '/api/schedules', 'read', () => send(200, scheduleList(d.defs(), store.db, new Date())));

  const scheduleOr404 = (name: string) => {
    try {
      return findSchedule(d.defs(), name);
    } catch (err) {
      throw new NotFound(err instanceof Error ? err.message : String(err));
    }
  };

  route('GET', '/api/schedules/:name/history', 'read', (ctx) => {
    const def = scheduleOr404(ctx.params['name']!);
    return send(200, scheduleHistory(def, store.db, intParam(ctx.url, 'limit', 20, 1000)));
  });

  for (const [verb, status] of [['start', 'running'], ['stop', 'stopped']] as const) {
    route('POST', `/api/schedules/:name/${verb}`, 'write', (ctx) => {
      const def = scheduleOr404(ctx.params['name']!);
      const message = changeScheduleStatus(def, store.db, status, new Date());
      const entry = scheduleList(d.defs(), store.db, new Date()).schedules.find((s) => s.name === def.name);
      return send(200, { message: message.trimEnd(), schedule: entry });
    });
  }
}

/** An unknown run, asset or schedule: 404. */
class NotFound extends Error {}
