import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../src/serve/metrics.js';
import { Router, json, listen, text, type RunningServer } from '../../src/serve/http.js';
import { createLogger, formatLogLine } from '../../src/serve/log.js';
import { healthReport, readyReport } from '../../src/serve/health.js';
import { parsePrometheus, sampleValue } from './proc.js';

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in the text format a scraper parses', () => {
    const r = new Registry();
    const c = r.counter('x_total', 'Things.');
    const g = r.gauge('y', 'A level.');
    const h = r.histogram('d_seconds', 'Durations.', [1, 10]);
    c.inc({ kind: 'a' });
    c.inc({ kind: 'a' }, 2);
    c.inc({ kind: 'quote"back\\slash\nnl' });
    g.set({}, 4.5);
    h.observe({ k: 'z' }, 0.5);
    h.observe({ k: 'z' }, 5);
    h.observe({ k: 'z' }, 50);
    const { samples, types } = parsePrometheus(r.render());
    expect(types.get('x_total')).toBe('counter');
    expect(types.get('d_seconds')).toBe('histogram');
    expect(sampleValue(samples, 'x_total', { kind: 'a' })).toBe(3);
    expect(sampleValue(samples, 'x_total', { kind: 'quote"back\\slash\nnl' })).toBe(1);
    expect(sampleValue(samples, 'y')).toBe(4.5);
    expect(sampleValue(samples, 'd_seconds_bucket', { k: 'z', le: '1' })).toBe(1);
    expect(sampleValue(samples, 'd_seconds_bucket', { k: 'z', le: '10' })).toBe(2);
    expect(sampleValue(samples, 'd_seconds_bucket', { k: 'z', le: '+Inf' })).toBe(3);
    expect(sampleValue(samples, 'd_seconds_sum', { k: 'z' })).toBe(55.5);
    expect(sampleValue(samples, 'd_seconds_count', { k: 'z' })).toBe(3);
  });

  it('refreshes collected gauges at each render, and survives a failing collector', () => {
    const r = new Registry();
    const g = r.gauge('level', 'Now.');
    let n = 0;
    r.collect(() => g.set({}, ++n));
    r.collect(() => {
      throw new Error('store locked');
    });
    expect(sampleValue(parsePrometheus(r.render()).samples, 'level')).toBe(1);
    expect(sampleValue(parsePrometheus(r.render()).samples, 'level')).toBe(2);
  });
});

describe('router', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('routes by method and path with params, answers HEAD, 404 and 405', async () => {
    const router = new Router()
      .get('/runs/:id', ({ params, url }) => json(200, { id: params.id, q: url.searchParams.get('q') }))
      .post('/runs/:id/cancel', ({ params }) => json(202, { canceled: params.id }))
      .get('/static/*', ({ params }) => text(200, params['*']!))
      .get('/boom', () => {
        throw new Error('kaput');
      });
    server = await listen(router, '127.0.0.1', 0);
    const base = `http://127.0.0.1:${server.port}`;
    expect(await (await fetch(`${base}/runs/a%20b?q=1`)).json()).toEqual({ id: 'a b', q: '1' });
    expect((await fetch(`${base}/runs/x/cancel`, { method: 'POST' })).status).toBe(202);
    expect(await (await fetch(`${base}/static/css/app.css`)).text()).toBe('css/app.css');
    const head = await fetch(`${base}/runs/1`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const missing = await fetch(`${base}/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toContain('/nothing');
    const wrong = await fetch(`${base}/runs/x/cancel`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    const boom = await fetch(`${base}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ error: 'kaput' });
  });

  it('reports a port in use as an error with its code', async () => {
    server = await listen(new Router(), '127.0.0.1', 0);
    await expect(listen(new Router(), '127.0.0.1', server.port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('closes with idle keep-alive connections open', async () => {
    server = await listen(new Router().get('/x', () => text(200, 'ok')), '127.0.0.1', 0);
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve) => http.get({ host: '127.0.0.1', port: server!.port, path: '/x', agent }, (res) => res.resume().on('end', resolve)));
    await server.close();
    server = undefined;
    agent.destroy();
  });
});

describe('log lines', () => {
  it('writes JSON lines with ts, level, msg and fields', () => {
    const out: string[] = [];
    const log = createLogger({ format: 'json', write: (l) => out.push(l), now: () => new Date('2024-05-01T00:00:00Z') });
    log.info('tick: starting run', { schedule: 's', run_id: 'r', skipped: undefined });
    log.debug('hidden');
    log.error('two\nlines');
    expect(out).toHaveLength(2);
    expect(out.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    expect(JSON.parse(out[0]!)).toEqual({ ts: '2024-05-01T00:00:00.000Z', level: 'info', msg: 'tick: starting run', schedule: 's', run_id: 'r' });
    expect(JSON.parse(out[1]!).msg).toBe('two\nlines');
  });

  it('writes human lines with quoted values where needed', () => {
    expect(formatLogLine('human', new Date('2024-05-01T00:00:00Z'), 'warn', 'run ended failure', { schedule: 's', error: 'a b', ids: ['x', 'y'] })).toBe(
      '2024-05-01T00:00:00.000Z warn  run ended failure schedule=s error="a b" ids=x,y',
    );
  });
});

describe('health and readiness', () => {
  const me = { id: 'me', address: null, startedAt: new Date() };
  const okDb = () => ({ prepare: () => ({ run: () => ({ changes: 1 }) }) }) as never;

  it('is healthy when the loop ran recently and the store takes a write', () => {
    const now = new Date('2024-05-01T00:00:10Z');
    const r = healthReport({ now, lastWakeAt: new Date('2024-05-01T00:00:08Z'), ticking: true, db: okDb, me });
    expect(r.status).toBe('ok');
    expect(r.checks.scheduler).toMatchObject({ ok: true, age_seconds: 2 });
  });

  it('fails when the loop is stale or the store cannot be written', () => {
    const now = new Date('2024-05-01T00:01:00Z');
    const stale = healthReport({ now, lastWakeAt: new Date('2024-05-01T00:00:00Z'), ticking: true, db: okDb, me });
    expect(stale.status).toBe('fail');
    expect(stale.checks.scheduler!.detail).toContain('60.0s ago');
    const badDb = () =>
      ({
        prepare: () => ({
          run: () => {
            throw new Error('attempt to write a readonly database');
          },
        }),
      }) as never;
    const ro = healthReport({ now, lastWakeAt: now, ticking: true, db: badDb, me });
    expect(ro.status).toBe('fail');
    expect(ro.checks.store).toEqual({ ok: false, detail: 'the store cannot be written: attempt to write a readonly database' });
  });

  it('is not ready while shutting down', () => {
    expect(readyReport({ definitionsLoaded: true, schedules: 2, storeOpen: true, shuttingDown: false }).status).toBe('ok');
    expect(readyReport({ definitionsLoaded: true, schedules: 2, storeOpen: true, shuttingDown: true }).status).toBe('fail');
  });
});
