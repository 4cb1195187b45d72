/**
 * The web UI at scale in a real browser (headless Chromium through playwright-core,
 * against the built CLI's `runner serve`) over a generated project: 1,000 assets in 10
 * groups, a run of 60 steps printing ANSI colours (6 fail the same way), a sleeper to
 * cancel, a fast schedule, and 105 older runs seeded in the store.
 *
 * - the graph: load-to-first-graph time (printed; docs/benchmarks.md), fit shows every
 *   asset inside the panel, zoom (buttons, wheel) changes the transform, dragging pans,
 *   a collapsed group's assets are gone and its edges end at its box, hovering marks
 *   exactly the upstream and downstream assets, a selection is brought into view;
 * - the run page: the log sits above the timeline's end, the timeline sorts and filters,
 *   ANSI colours are spans, a failure message appears once, the merged log of all steps
 *   (times, steps, streams, a filter), `Re-run failed` POSTs to the retry endpoint with
 *   the CSRF token and opens the new run of the failed steps, Cancel asks first;
 * - the runs list pages to the 101st run and filters by date; a schedule card shows the
 *   tick that came after its switch was used; unknown paths are the app's not-found page;
 * - at 390 px wide no page is wider than the screen.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Store } from '../../src/storage/store.js';
import { builtCli, launchChromium, startServe, type ServeChild } from './browser-support.js';
import { manyAssets, wideRun } from './fixtures.js';

let built: Awaited<ReturnType<typeof builtCli>>;
let browser: Browser;
let serve: ServeChild;
let page: Page;
let root: string;
let wideId: string;
let graph: { nodes: Array<{ key: string; group: string }>; edges: Array<{ from: string; to: string }> };
const SEEDED = 105;
const DAY = 86_400_000;
/** Today's midnight, UTC. */
const SEED_BASE = Math.floor(Date.now() / DAY) * DAY;
const day = (daysBack: number) => new Date(SEED_BASE - daysBack * DAY).toISOString().slice(0, 10);

const api = async <T = any>(p: string): Promise<T> => (await (await page.request.get(serve.url + p)).json()) as T;
const csrf = async () => (await page.getAttribute('meta[name=csrf-token]', 'content')) ?? '';
const post = async (p: string, data: unknown = {}) => page.request.post(serve.url + p, { data, headers: { 'x-csrf-token': await csrf() } });
const waitFinished = (id: string) =>
  page.waitForFunction(
    async (u) => ['success', 'failure', 'canceled'].includes(((await (await fetch(u)).json()) as { status: string }).status),
    `/api/runs/${id}`,
    { timeout: 60_000, polling: 300 },
  );

beforeAll(async () => {
  built = await builtCli();
  browser = await launchChromium();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-ui-scale-'));
  const pipelines = path.join(root, 'pipelines');
  fs.mkdirSync(pipelines);
  fs.writeFileSync(path.join(pipelines, 'big.yaml'), manyAssets({ assets: 1000, groups: 10 }));
  fs.writeFileSync(
    path.join(pipelines, 'wide.yaml'),
    wideRun(60) +
      '  - key: wide/sleeper\n    group: wide_extra\n    handler: command\n    config: {run: [sh, -c, "echo sleeping; sleep 60"]}\n' +
      'schedules:\n  - name: fast\n    cron: "*/2 * * * * *"\n    select: wide/s00\n    default_status: stopped\n    overlap: skip\n',
  );
  // Older runs, one a day back, finished: the runs list has more than one page.
  const home = path.join(root, 'home');
  const store = Store.open(home);
  const dated = store.db.prepare("UPDATE runs SET status = 'success', created_at = ?, started_at = ?, ended_at = ? WHERE id = ?");
  const stepDone = store.db.prepare("UPDATE steps SET status = 'success', attempts = 1 WHERE run_id = ?");
  for (let i = 0; i < SEEDED; i++) {
    const id = randomUUID();
    store.createRun({ id, trigger: { type: 'manual' }, env: 'default', selection: 'g0/a0000', keys: ['g0/a0000'], pipelinesDir: pipelines });
    // Two a day (06:00 and 18:00 UTC) back from two days ago: well inside the 90-day retention.
    const at = new Date(SEED_BASE - 2 * DAY + 6 * 3600_000 - i * 12 * 3600_000).toISOString();
    dated.run(at, at, at, id);
    stepDone.run(id);
  }
  store.close();
  serve = await startServe(built.bin, root, ['-p', 'pipelines'], { RUNNER_HOME: home, RUNNER_ENV: undefined, DAGSTER_ENV: undefined, RUNNER_UI_TOKEN: undefined, TZ: 'UTC' });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });
  await page.goto(serve.url + '/launch');
  const started = await post('/api/runs', { select: 'group:wide' });
  expect(started.status()).toBe(201);
  wideId = ((await started.json()) as { run_id: string }).run_id;
  await waitFinished(wideId);
  graph = await api('/api/graph');
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
  built?.cleanup();
});

/** Every `g.node`'s box, and the graph's. */
const boxes = () =>
  page.evaluate(() => {
    const svg = document.querySelector('svg.asset-graph')!.getBoundingClientRect();
    const nodes = [...document.querySelectorAll('svg.asset-graph g.node')].map((g) => {
      const r = g.getBoundingClientRect();
      return { key: g.getAttribute('data-key')!, left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    });
    return { svg: { left: svg.left, top: svg.top, right: svg.right, bottom: svg.bottom }, nodes };
  });
const transform = () => page.getAttribute('svg.asset-graph g.viewport', 'transform');
const scale = async () => Number(await page.getAttribute('svg.asset-graph', 'data-scale'));

describe('the asset graph at 1,000 assets', () => {
  it('draws every asset; fit (the first view) shows them all inside the panel; load to first graph is measured', async () => {
    expect(graph.nodes.length).toBeGreaterThanOrEqual(1000);
    await page.goto(serve.url + '/');
    await page.waitForSelector('svg.asset-graph g.node');
    const drawnAt = await page.evaluate(() => performance.getEntriesByName('runner:graph-drawn')[0]?.startTime ?? NaN);
    expect(Number.isFinite(drawnAt)).toBe(true);
    console.log(`load to first drawn graph, ${graph.nodes.length} assets: ${Math.round(drawnAt)} ms`);
    const b = await boxes();
    expect(b.nodes).toHaveLength(graph.nodes.length);
    for (const n of b.nodes) {
      expect(n.left, n.key).toBeGreaterThanOrEqual(b.svg.left - 0.5);
      expect(n.right, n.key).toBeLessThanOrEqual(b.svg.right + 0.5);
      expect(n.top, n.key).toBeGreaterThanOrEqual(b.svg.top - 0.5);
      expect(n.bottom, n.key).toBeLessThanOrEqual(b.svg.bottom + 0.5);
    }
    // The groups are outlined boxes, one per group.
    const groups = new Set(graph.nodes.map((n) => n.group));
    expect(await page.$$eval('svg.asset-graph g.group', (gs) => gs.map((g) => g.getAttribute('data-group')))).toEqual([...groups]);
  });

  it('zooms with the buttons and the wheel, pans by dragging, and Fit brings the whole graph back', async () => {
    const fitted = await transform();
    const k0 = await scale();
    // Far out, labels are hidden (too small to read, and the first layout skips them).
    expect(k0).toBeLessThan(0.3);
    expect(await page.$eval('g.node text.label', (t) => getComputedStyle(t).display)).toBe('none');
    await page.click('button[data-action=zoom-in]');
    expect(await scale()).toBeCloseTo(k0 * 1.25, 3);
    const svg = (await page.$('svg.asset-graph'))!;
    const box = (await svg.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -300);
    await page.waitForFunction((k) => Number(document.querySelector('svg.asset-graph')!.getAttribute('data-scale')) > k, k0 * 1.3);
    // A trackpad's pinch arrives as a wheel with Ctrl held.
    const beforePinch = await scale();
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, 40);
    await page.keyboard.up('Control');
    await page.waitForFunction((k) => Number(document.querySelector('svg.asset-graph')!.getAttribute('data-scale')) < k, beforePinch);
    const zoomed = await transform();
    // Drag from an empty corner: the view moves, and no asset page opens.
    await page.mouse.move(box.x + 6, box.y + box.height - 6);
    await page.mouse.down();
    await page.mouse.move(box.x + 120, box.y + box.height - 60, { steps: 5 });
    await page.mouse.up();
    const panned = await transform();
    expect(panned).not.toBe(zoomed);
    const tx = (t: string | null) => (/translate\(([-\d.]+),([-\d.]+)\)/.exec(t ?? '') ?? []).slice(1).map(Number);
    expect(tx(panned)[0]! - tx(zoomed)[0]!).toBeCloseTo(114, 0);
    expect(new URL(page.url()).pathname).toBe('/');
    await page.click('button[data-action=fit]');
    expect(await transform()).toBe(fitted);
  });

  it('collapses a group: its assets are not drawn, edges end at its box; expanding brings them back', async () => {
    const inGroup = graph.nodes.filter((n) => n.group === 'grp3').map((n) => n.key);
    expect(inGroup.length).toBe(100);
    await page.click('g.group[data-group=grp3] .group-toggle');
    await page.waitForSelector('g.group.collapsed[data-group=grp3]');
    expect(await page.$$eval('svg.asset-graph g.node', (gs) => gs.filter((g) => g.getAttribute('data-key')!.startsWith('g3/')).length)).toBe(0);
    expect(await page.$$eval('svg.asset-graph g.node', (gs) => gs.length)).toBe(graph.nodes.length - inGroup.length);
    const ends = await page.$$eval('path.edge', (ps) => ps.flatMap((p) => [p.getAttribute('data-from'), p.getAttribute('data-to')]));
    expect(ends).toContain('group:grp3');
    expect(ends.some((e) => e?.startsWith('g3/'))).toBe(false);
    await page.click('g.group[data-group=grp3] .group-toggle');
    await page.waitForSelector('g.group[data-group=grp3]:not(.collapsed)');
    expect(await page.$$eval('svg.asset-graph g.node', (gs) => gs.length)).toBe(graph.nodes.length);
    // Collapse all: one box per group, no asset drawn; Expand all brings every asset back.
    await page.click('button[data-action=collapse-all]');
    await page.waitForFunction(() => document.querySelectorAll('svg.asset-graph g.node').length === 0);
    expect(await page.$$eval('g.group.collapsed', (gs) => gs.length)).toBe(new Set(graph.nodes.map((n) => n.group)).size);
    await page.click('button[data-action=expand-all]');
    await page.waitForFunction((n) => document.querySelectorAll('svg.asset-graph g.node').length === n, graph.nodes.length);
  });

  it('hovering an asset marks exactly its upstream and downstream assets', async () => {
    const key = 'g1/a0040';
    const walk = (start: string, next: (k: string) => string[]) => {
      const out = new Set<string>();
      const todo = next(start);
      while (todo.length) {
        const k = todo.pop()!;
        if (!out.has(k)) {
          out.add(k);
          todo.push(...next(k));
        }
      }
      return [...out].sort();
    };
    const up = walk(key, (k) => graph.edges.filter((e) => e.to === k).map((e) => e.from));
    const down = walk(key, (k) => graph.edges.filter((e) => e.from === k).map((e) => e.to));
    expect(up.length).toBeGreaterThan(1);
    expect(down.length).toBeGreaterThan(1);
    // Zoom in on the asset first, so the pointer lands on it and nothing else.
    await page.fill('.selection-box input', key);
    await page.click('.selection-box button[type=submit]');
    await page.waitForSelector(`g.node.selected[data-key="${key}"]`);
    await page.waitForTimeout(200);
    // Framed close enough to read: the labels that fit hid are back.
    expect(await scale()).toBeGreaterThanOrEqual(0.3);
    expect(await page.$eval(`g.node[data-key="${key}"] text.label`, (t) => getComputedStyle(t).display)).not.toBe('none');
    await page.hover(`g.node[data-key="${key}"] rect.box`);
    await page.waitForSelector('svg.asset-graph.hovering');
    const marked = (cls: string) => page.$$eval(`g.node.${cls}`, (gs) => gs.map((g) => g.getAttribute('data-key')!).sort());
    expect(await marked('hovered')).toEqual([key]);
    expect(await marked('upstream')).toEqual(up);
    expect(await marked('downstream')).toEqual(down);
    expect(await page.$$eval('path.edge.lit', (ps) => ps.length)).toBeGreaterThanOrEqual(up.length + down.length);
    await page.mouse.move(5, 5);
    await page.waitForSelector('svg.asset-graph:not(.hovering)');
    expect(await page.$$eval('g.node.upstream', (gs) => gs.length)).toBe(0);
  });

  it('a selection is brought into view in the graph and in the table', async () => {
    await page.click('button[data-action=fit]');
    for (let i = 0; i < 6; i++) await page.click('button[data-action=zoom-in]');
    await page.fill('.selection-box input', 'g9/*');
    await page.click('.selection-box button[type=submit]');
    await page.waitForSelector('g.node.selected[data-key^="g9/"]');
    await page.waitForTimeout(200);
    const b = await boxes();
    const sel = b.nodes.filter((n) => n.key.startsWith('g9/'));
    expect(sel.length).toBe(100);
    for (const n of sel) {
      expect(n.left).toBeGreaterThanOrEqual(b.svg.left - 0.5);
      expect(n.bottom).toBeLessThanOrEqual(b.svg.bottom + 0.5);
    }
    const rowVisible = await page.evaluate(() => {
      const panel = document.querySelector('.table-panel')!.getBoundingClientRect();
      const row = document.querySelector('tr.selected')!.getBoundingClientRect();
      return row.top >= panel.top && row.bottom <= panel.bottom;
    });
    expect(rowVisible).toBe(true);
    // The table scrolls inside its panel, not the page.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true);
  });
});

describe('the run page at 60 steps', () => {
  it('the log is above the timeline’s end; ANSI colours are spans; the failure message is shown once', async () => {
    await page.goto(`${serve.url}/runs/${wideId}`);
    await page.waitForSelector('pre.log .ansi-fg-1');
    const where = await page.evaluate(() => {
      const tl = document.querySelector('.timeline')!;
      const log = document.querySelector('pre.log')!.getBoundingClientRect();
      return { logTop: log.top + scrollY, timelineEnd: tl.getBoundingClientRect().top + scrollY + tl.scrollHeight, rows: tl.querySelectorAll('.tl-row').length };
    });
    expect(where.rows).toBe(60);
    expect(where.logTop).toBeLessThan(where.timelineEnd);
    const red = await page.$eval('pre.log .ansi-fg-1', (s) => ({ text: s.textContent, color: getComputedStyle(s).color }));
    expect(red).toEqual({ text: 'boom: the source is down', color: 'rgb(255, 107, 107)' });
    expect(await page.textContent('pre.log')).not.toContain('[31m');
    expect(await page.$$eval('pre.log .ansi-fg-2', (s) => s.map((x) => x.textContent))).toEqual(['starting wide/s09']);
    // One message for the six steps that failed the same way, nowhere else outside the log.
    expect(await page.$$eval('[data-role=run-error] .failure', (fs) => fs.map((f) => f.getAttribute('data-steps')))).toEqual(['6']);
    const shown = await page.evaluate(() => {
      let n = 0;
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let t = walker.nextNode(); t; t = walker.nextNode()) if (t.textContent?.includes('exit code 3') && !t.parentElement?.closest('pre.log')) n++;
      return n;
    });
    expect(shown).toBe(1);
  });

  it('the timeline sorts by start time and filters by status', async () => {
    const run = await api<{ steps: Array<{ key: string; status: string; started_at: string }> }>(`/api/runs/${wideId}`);
    await page.selectOption('select[name=order]', 'start');
    const byStart = run.steps.map((s, i) => ({ ...s, i })).sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at) || a.i - b.i).map((s) => s.key);
    expect(await page.$$eval('.tl-row', (rs) => rs.map((r) => r.getAttribute('data-key')))).toEqual(byStart);
    await page.selectOption('select[name=step-status]', 'failure');
    const failed = byStart.filter((k) => run.steps.find((s) => s.key === k)!.status === 'failure');
    expect(failed).toHaveLength(6);
    expect(await page.$$eval('.tl-row', (rs) => rs.map((r) => r.getAttribute('data-key')))).toEqual(failed);
    await page.selectOption('select[name=step-status]', '');
    await page.selectOption('select[name=order]', 'plan');
    expect(await page.$$eval('.tl-row', (rs) => rs.map((r) => r.getAttribute('data-key')))).toEqual(run.steps.map((s) => s.key));
  });

  it('one log of all steps: every line with its time, step and stream, in time order, with a filter', async () => {
    await page.click('button[data-view=all]');
    await page.waitForSelector('.log-line');
    const lines = await page.$$eval('.log-line', (ls) =>
      ls.map((l) => ({ key: l.getAttribute('data-key'), stream: l.getAttribute('data-stream'), ts: l.querySelector('.log-ts')!.getAttribute('title'), text: l.textContent })),
    );
    expect(lines).toHaveLength(180);
    const ts = lines.map((l) => Date.parse(l.ts!));
    expect(ts.every(Number.isFinite)).toBe(true);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(lines.filter((l) => l.stream === 'stderr')).toHaveLength(60 + 6);
    expect(new Set(lines.map((l) => l.key)).size).toBe(60);
    await page.fill('input[name=log-filter]', 'BOOM');
    await page.waitForFunction(() => document.querySelectorAll('.log-line').length === 6);
    expect(await page.$$eval('.log-line', (ls) => ls.map((l) => l.getAttribute('data-key')))).toEqual(expect.arrayContaining(['wide/s09', 'wide/s19', 'wide/s59']));
    expect(await page.$$eval('.log-line .ansi-fg-1', (s) => s.length)).toBe(6);
    expect(new URL(page.url()).searchParams.get('logs')).toBe('all');
    // A step's name opens its own log, and the address says which (a link opens it).
    await page.click('.log-line[data-key="wide/s19"] .log-step');
    await page.waitForSelector('pre.log[data-key="wide/s19"]');
    expect(new URL(page.url()).searchParams.get('step')).toBe('wide/s19');
    await page.reload();
    await page.waitForSelector('pre.log[data-key="wide/s19"]');
    expect(await page.getAttribute('.tl-row.active', 'data-key')).toBe('wide/s19');
  });

  it('Re-run failed POSTs to /api/runs/ID/retry with the CSRF token and opens the new run of the failed steps', async () => {
    await page.goto(`${serve.url}/runs/${wideId}`);
    await page.waitForSelector('button[data-action=retry]');
    const sent = page.waitForRequest((r) => r.url().endsWith(`/api/runs/${wideId}/retry`));
    await page.click('button[data-action=retry]');
    const req = await sent;
    expect(req.method()).toBe('POST');
    expect(req.headers()['x-csrf-token']).toBe(await csrf());
    await page.waitForURL((u) => /^\/runs\/[0-9a-f-]{36}$/.test(u.pathname) && !u.pathname.endsWith(wideId));
    const id = new URL(page.url()).pathname.split('/').pop()!;
    await waitFinished(id);
    const retried = await api<{ trigger: { type: string; retry_of?: string }; steps: Array<{ key: string }> }>(`/api/runs/${id}`);
    expect(retried.trigger).toMatchObject({ type: 'retry', retry_of: wideId });
    expect(retried.steps.map((s) => s.key)).toEqual(['wide/s09', 'wide/s19', 'wide/s29', 'wide/s39', 'wide/s49', 'wide/s59']);
    await page.waitForSelector('.run-page[data-status="failure"]');
    expect(await page.$$eval('.tl-row', (rs) => rs.length)).toBe(6);
    expect(await page.textContent('.summary')).toContain('retry of');
  });

  it('Cancel asks first; only the confirmation cancels the run', async () => {
    const r = await post('/api/runs', { select: 'wide/sleeper' });
    const id = ((await r.json()) as { run_id: string }).run_id;
    await page.goto(`${serve.url}/runs/${id}`);
    await page.waitForSelector('.run-page[data-status="started"] button[data-action=cancel]');
    await page.click('button[data-action=cancel]');
    await page.waitForSelector('button[data-action=confirm-cancel]');
    await page.click('button[data-action=keep-running]');
    await page.waitForTimeout(300);
    expect((await api(`/api/runs/${id}`)).status).toBe('started');
    await page.click('button[data-action=cancel]');
    await page.click('button[data-action=confirm-cancel]');
    await page.waitForSelector('.run-page[data-status="canceled"]', { timeout: 20_000 });
  });
});

describe('runs list, schedules, unknown paths', () => {
  it('pages past 100 runs to the 101st, and filters by date', async () => {
    const total = (await api<{ total: number }>('/api/runs?limit=1')).total;
    expect(total).toBeGreaterThan(100);
    const hundredFirst = (await api<{ runs: Array<{ id: string }> }>('/api/runs?limit=1&offset=100')).runs[0]!.id;
    await page.goto(`${serve.url}/runs`);
    await page.waitForSelector('table.runs-table tbody tr');
    expect(await page.$$eval('table.runs-table tbody tr', (t) => t.length)).toBe(100);
    expect(await page.textContent('[data-role=range]')).toBe(`runs 1–100 of ${total}`);
    // The 60-step run's strip wraps and stops at 48 cells: the table stays inside the page.
    const strip = await page.$eval(`tr[data-run="${wideId}"] .strip`, (e) => ({ cells: e.querySelectorAll('.cell').length, more: e.querySelector('.more')?.textContent }));
    expect(strip).toEqual({ cells: 48, more: '+12' });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true);
    await page.click('button[data-action=older]');
    await page.waitForSelector(`tr[data-run="${hundredFirst}"]`);
    expect(new URL(page.url()).searchParams.get('page')).toBe('2');
    // Five days of the seeded runs, two a day.
    await page.fill('input[name=from]', day(14));
    await page.fill('input[name=to]', day(10));
    await page.waitForFunction(() => document.querySelectorAll('table.runs-table tbody tr').length === 10);
    expect(await page.textContent('[data-role=range]')).toBe('runs 1–10 of 10');
  });

  it('a schedule card shows the tick that came after its switch was used (no stale “none yet”)', async () => {
    await page.goto(`${serve.url}/schedules`);
    const card = 'section[data-schedule=fast]';
    await page.waitForSelector(`${card} button.switch[aria-checked="false"]`);
    expect(await page.textContent(`${card} dl`)).toContain('none yet');
    await page.click(`${card} button.switch`);
    await page.waitForSelector(`${card} button.switch[aria-checked="true"]`);
    await page.waitForFunction(async () => ((await (await fetch('/api/schedules')).json()) as any).schedules.find((s: any) => s.name === 'fast').last_tick !== null, undefined, { timeout: 20_000, polling: 250 });
    await page.waitForFunction((sel) => !document.querySelector(sel)!.textContent!.includes('none yet'), `${card} dl`, { timeout: 15_000 });
    await page.click(`${card} button.switch`);
    await page.waitForSelector(`${card} button.switch[aria-checked="false"]`);
  }, 60_000);

  it('an unknown path is the app’s not-found page (404); probes carry the security headers', async () => {
    const res = await page.goto(`${serve.url}/no/such/page`);
    expect(res!.status()).toBe(404);
    await page.waitForSelector('h1');
    expect(await page.textContent('h1')).toBe('Not found');
    for (const p of ['/healthz', '/readyz', '/metrics', '/api/nothing']) {
      const h = (await page.request.get(serve.url + p)).headers();
      expect(h['content-security-policy'], p).toContain("default-src 'self'");
      expect(h['x-frame-options'], p).toBe('DENY');
    }
  });
});

describe('a phone, 390 px wide', () => {
  it('no page is wider than the screen; the menu and the timeline labels stay inside', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, timezoneId: 'UTC' });
    try {
      const pages: Array<[string, string]> = [
        ['/', 'svg.asset-graph g.node'],
        ['/assets/wide/s09', 'pre.config'],
        ['/runs', 'table.runs-table'],
        [`/runs/${wideId}`, '.tl-row'],
        ['/schedules', 'section.schedule'],
        ['/launch?select=wide/*', 'ol.plan li'],
        ['/no/such/page', 'h1'],
      ];
      for (const [p, ready] of pages) {
        await phone.goto(serve.url + p);
        await phone.waitForSelector(ready);
        await phone.waitForTimeout(200);
        const m = await phone.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: innerWidth, nav: document.querySelector('.topbar')!.getBoundingClientRect().right }));
        expect(m.sw, p).toBeLessThanOrEqual(m.iw);
        expect(m.nav, p).toBeLessThanOrEqual(m.iw);
      }
      await phone.goto(`${serve.url}/runs/${wideId}`);
      await phone.waitForSelector('.tl-row');
      const outside = await phone.evaluate(() => {
        const panel = document.querySelector('.timeline')!.getBoundingClientRect();
        return [...document.querySelectorAll('.tl-label, .tl-meta, .tl-axis span')].filter((e) => e.getBoundingClientRect().right > panel.right + 0.5).length;
      });
      expect(outside).toBe(0);
    } finally {
      await phone.close();
    }
  }, 90_000);
});
