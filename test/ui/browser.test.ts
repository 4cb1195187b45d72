/**
 * The web UI in a real browser: headless Chromium (playwright-core, /usr/bin/chromium)
 * against the built CLI's `runner serve`.
 *
 * - over a copy of the real `pipelines/` (fake OpenMetadata CLI first on PATH, fake server,
 *   fake Slack, secrets in environment variables, retry delays cut to 50 ms): the assets
 *   page lists all 12 assets and draws one node per asset and one edge per dependency; a
 *   schedule started from its switch is running for `runner schedule list --json`;
 *   launching `openmetadata/trino/*` turns its steps green; a failed run shows its failure
 *   message and the alert; a POST without the CSRF token is refused; and no response the
 *   browser received (bodies, headers, server-sent events) contains a planted secret;
 * - over a temp project of `command` assets: a running step's log grows in the page;
 * - bound to 0.0.0.0: refused without a token (and serve will not start without one);
 * - the built JS stays under 200 KB gzipped.
 *
 * At 390 px wide no page is wider than the screen. With RUNNER_SCREENSHOTS=1 it also
 * writes docs/screenshots/*.png, at 1440 px and (`*-phone.png`) at 390 px.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../support/bundle.js';
import { fakeJwt, pathWithFakeCli, startFakeOpenMetadataServer, type FakeOpenMetadataServer } from '../support/fake-openmetadata/index.js';
import { FakeSlack } from '../support/fake-slack.js';
import { builtCli, launchChromium, runCli, startServe, type ServeChild } from './browser-support.js';

const JWT = fakeJwt('ui');
const SECRETS = { TRINO_PASSWORD: 'trino-Pa55-ui-planted', SUPERSET_PASSWORD: 'superset-Pa55-ui-planted', REDASH_API_KEY: 'redash-key-ui-planted' };
const UI_TOKEN = 'ui-browser-token-0123456789abcdef';
const SHOTS = process.env.RUNNER_SCREENSHOTS === '1';

let built: Awaited<ReturnType<typeof builtCli>>;
let browser: Browser;
let omServer: FakeOpenMetadataServer;
let slack: FakeSlack;
let root: string;
let env: Record<string, string | undefined>;
let serve: ServeChild;
let context: BrowserContext;
let page: Page;
/** Every body, header block and server-sent event the browser received from serve. */
const received: string[] = [];

function omEnv(): Record<string, string | undefined> {
  return {
    PATH: pathWithFakeCli(),
    RUNNER_HOME: path.join(root, 'home'),
    RUNNER_ENV: 'dev',
    DAGSTER_ENV: undefined,
    RUNNER_UI_TOKEN: undefined,
    TMPDIR: path.join(root, 'tmp'),
    OPENMETADATA_JWT_TOKEN: JWT,
    ...SECRETS,
    SLACK_WEBHOOK_URL: slack.url,
    RUNNER_UI_URL: 'http://127.0.0.1:3070',
    DBT_TARGET_DIR: path.join(root, 'dbt-target'),
    FAKE_OM_PRINT_CONFIG: '1', // the CLI logs its config, secrets included: the runner masks them
    FAKE_OM_FAIL_SOURCE: 'dbt', // dbt steps fail: a failed run to read
    RUNNER_KILL_GRACE: '1s',
  };
}

/** Records what the browser receives on `p`: finished responses' headers and bodies, and each server-sent event as it arrives. */
async function record(p: Page): Promise<void> {
  p.on('requestfinished', (req) => {
    void req.response().then(async (res) => {
      if (!res) return;
      received.push(JSON.stringify(await res.allHeaders()));
      received.push((await res.body().catch(() => Buffer.alloc(0))).toString('utf8'));
    });
  });
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Network.enable');
  cdp.on('Network.eventSourceMessageReceived', (e) => received.push(e.data));
}

beforeAll(async () => {
  built = await builtCli();
  browser = await launchChromium();
  omServer = await startFakeOpenMetadataServer({ jwt: JWT });
  slack = await FakeSlack.start();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-ui-browser-'));
  fs.mkdirSync(path.join(root, 'tmp'));
  const pipelines = path.join(root, 'pipelines');
  fs.cpSync(path.join(PROJECT_ROOT, 'pipelines'), pipelines, { recursive: true });
  const platform = path.join(pipelines, 'platform.yaml');
  // Steps inherit the fake CLI's FAKE_OM_* variables only when allowed.
  const dev = "    description: A developer's machine, with OpenMetadata and Dagster on localhost.\n";
  const text = fs.readFileSync(platform, 'utf8').replace(dev, `${dev}    inherit_env: [FAKE_OM_*]\n`);
  fs.writeFileSync(platform, text.replace('openmetadata_url: http://localhost:8585/api', `openmetadata_url: ${omServer.url}`));
  for (const f of fs.readdirSync(path.join(pipelines, 'openmetadata'))) {
    const p = path.join(pipelines, 'openmetadata', f);
    fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace(/delay: \d+m\b/g, 'delay: 50ms'));
  }
  fs.mkdirSync(path.join(root, 'dbt-target'));
  for (const f of ['manifest.json', 'catalog.json', 'run_results.json']) fs.writeFileSync(path.join(root, 'dbt-target', f), '{}');
  env = omEnv();
  serve = await startServe(built.bin, root, ['-p', 'pipelines'], env);
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  await record(page);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await serve?.stop();
  await omServer?.close();
  await slack?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
  built?.cleanup();
});

/** Every page: its address, what shows it is ready, its screenshot's name, whether it is shot tall. */
function pagesToShoot(failedRun: string): Array<[string, string, string | undefined, boolean]> {
  return [
    ['/assets?select=openmetadata/trino/*', 'svg.asset-graph g.node.selected', 'assets', false],
    ['/assets/openmetadata/trino/lineage', 'pre.config', 'asset', false],
    ['/runs', 'table.runs-table', 'runs', false],
    [`/runs/${failedRun}`, '[data-role=run-error]', 'run', true],
    ['/schedules', 'section.schedule', 'schedules', false],
    ['/launch?select=%2Bopenmetadata%2Fdbt%2Flineage', 'ol.plan li', 'launch', false],
    ['/no/such/page', 'h1', undefined, false],
  ];
}

const dataStatus = (selector: string) => page.$$eval(selector, (els) => els.map((e) => e.getAttribute('data-status')));

describe('on the real pipelines/', () => {
  it('the assets page lists all 12 assets; the graph has one node per asset and one edge per dependency', async () => {
    await page.goto(serve.url + '/');
    await page.waitForSelector('svg.asset-graph g.node');
    const list = JSON.parse((await runCli(built.bin, root, ['list', '--json', '-p', 'pipelines'], env)).stdout) as { assets: Array<{ key: string; deps: string[] }> };
    expect(list.assets).toHaveLength(12);
    const keys = list.assets.map((a) => a.key).sort();
    const rows = await page.$$eval('table.assets-table tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-key')));
    expect([...rows].sort()).toEqual(keys);
    const nodes = await page.$$eval('svg.asset-graph g.node', (gs) => gs.map((g) => g.getAttribute('data-key')));
    expect([...nodes].sort()).toEqual(keys);
    const edges = await page.$$eval('svg.asset-graph path.edge', (ps) => ps.map((p) => `${p.getAttribute('data-from')} -> ${p.getAttribute('data-to')}`));
    const deps = list.assets.flatMap((a) => a.deps.map((d) => `${d} -> ${a.key}`));
    expect(deps.length).toBeGreaterThan(0);
    expect([...edges].sort()).toEqual([...deps].sort());
    // Dependencies are drawn left to right: a dependent sits in a column right of its upstream asset.
    const xs = await page.$$eval('svg.asset-graph g.node', (gs) => Object.fromEntries(gs.map((g) => [g.getAttribute('data-key'), Number(/translate\(([-\d.]+)/.exec(g.getAttribute('transform') ?? '')?.[1])])));
    for (const a of list.assets) for (const d of a.deps) expect(xs[a.key]).toBeGreaterThan(xs[d]!);
  });

  it('the selection box highlights what an expression selects, and shows an error with its caret', async () => {
    await page.fill('.selection-box input', 'openmetadata/trino/*');
    await page.click('.selection-box button[type=submit]');
    await page.waitForSelector('svg.asset-graph g.node.selected');
    const selected = await page.$$eval('svg.asset-graph g.node.selected', (gs) => gs.map((g) => g.getAttribute('data-key')));
    expect(selected.sort()).toEqual(['openmetadata/trino/lineage', 'openmetadata/trino/metadata', 'openmetadata/trino/profiling']);
    expect(await page.$$eval('svg.asset-graph g.node.dimmed', (gs) => gs.length)).toBe(9);
    expect(new URL(page.url()).searchParams.get('select')).toBe('openmetadata/trino/*');
    await page.fill('.selection-box input', 'group:openmetdata or (');
    await page.click('.selection-box button[type=submit]');
    const err = await (await page.waitForSelector('.error-box')).textContent();
    expect(err).toContain('group:openmetdata or (');
    expect(err).toMatch(/\n +\^+/);
    expect(await page.$$eval('svg.asset-graph g.node.selected', (gs) => gs.length)).toBe(0);
  });

  it('starts a schedule from its switch, and `runner schedule list --json` agrees; then stops it', async () => {
    const name = 'critical_metadata_schedule';
    const list = async () => JSON.parse((await runCli(built.bin, root, ['schedule', 'list', '--json', '-p', 'pipelines'], env)).stdout) as { schedules: Array<{ name: string; status: string }> };
    expect((await list()).schedules.find((s) => s.name === name)!.status).toBe('stopped');
    await page.goto(serve.url + '/schedules');
    const sw = `button.switch[data-schedule="${name}"]`;
    await page.waitForSelector(sw);
    expect(await page.getAttribute(sw, 'aria-checked')).toBe('false');
    expect(await page.textContent(`section[data-schedule="${name}"] .cron-words`)).toBe('every 4 hours at :00 (UTC)');
    await page.click(sw);
    await page.waitForSelector(`${sw}[aria-checked="true"]`);
    expect((await list()).schedules.find((s) => s.name === name)!.status).toBe('running');
    await page.reload();
    await page.waitForSelector(`${sw}[aria-checked="true"]`);
    expect(await page.textContent(`section[data-schedule="${name}"] .schedule-status`)).toBe('running');
    await page.click(sw);
    await page.waitForSelector(`${sw}[aria-checked="false"]`);
    expect((await list()).schedules.find((s) => s.name === name)!.status).toBe('stopped');
  });

  it('launches openmetadata/trino/* from the Launch page and watches its steps turn green', async () => {
    await page.goto(serve.url + '/launch');
    await page.fill('input[name=select]', 'openmetadata/trino/*');
    await page.waitForSelector('ol.plan li');
    expect(await page.$$eval('ol.plan li', (lis) => lis.map((li) => li.getAttribute('data-key')))).toEqual([
      'openmetadata/trino/metadata',
      'openmetadata/trino/lineage',
      'openmetadata/trino/profiling',
    ]);
    await page.click('button.primary:not([disabled])');
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    await page.waitForSelector('.timeline .tl-row');
    const seen = new Set<string>();
    for (const s of await dataStatus('.timeline .tl-row')) seen.add(s ?? '');
    // Page functions reach the DOM through globalThis: the project's type check has no DOM library (and the CSP forbids string predicates).
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('.timeline .tl-row[data-status="success"]').length === 3, undefined, { timeout: 45_000 });
    // Not green from the start: the page followed the run live.
    expect([...seen].some((s) => s !== 'success')).toBe(true);
    await page.waitForSelector('.run-page[data-status="success"]');
    const bars = await page.$$eval('.tl-bar.status-success', (els) => els.map((e) => (globalThis as any).getComputedStyle(e).backgroundColor as string));
    expect(bars).toEqual(['rgb(43, 138, 62)', 'rgb(43, 138, 62)', 'rgb(43, 138, 62)']);
    // The asset graph now shows them green too.
    await page.goto(serve.url + '/assets');
    await page.waitForSelector('svg.asset-graph g.node[data-key="openmetadata/trino/metadata"][data-status="success"]');
    expect(await dataStatus('svg.asset-graph g.node[data-key^="openmetadata/trino/"]')).toEqual(['success', 'success', 'success']);
  }, 60_000);

  it('opens a failed run and reads its failure message and whether the alert went out', async () => {
    const start = await page.request.post(serve.url + '/api/runs', {
      data: { select: 'openmetadata/dbt/metadata' },
      headers: { 'x-csrf-token': await page.getAttribute('meta[name=csrf-token]', 'content') ?? '' },
    });
    expect(start.status()).toBe(201);
    const id = ((await start.json()) as { run_id: string }).run_id;
    await page.goto(`${serve.url}/runs/${id}`);
    await page.waitForSelector('.run-page[data-status="failure"]', { timeout: 45_000 });
    const run = (await (await page.request.get(`${serve.url}/api/runs/${id}`)).json()) as { error: string; steps: Array<{ error: string; attempts: number }> };
    expect(run.steps[0]!.attempts).toBe(3);
    const box = await page.textContent('[data-role=run-error]');
    expect(box).toContain('1 step failed');
    expect(box).toContain(run.steps[0]!.error.split('\n')[0]);
    expect(box).toContain('after 3 attempts');
    await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-role=alert]')?.textContent?.startsWith('sent'), undefined, { timeout: 15_000 });
    expect(slack.accepted.length).toBeGreaterThanOrEqual(1);
    // The failed step is the one shown, with its log.
    expect(await page.getAttribute('pre.log', 'data-key')).toBe('openmetadata/dbt/metadata');
    await page.waitForFunction(() => ((globalThis as any).document.querySelector('pre.log')?.textContent ?? '').length > 100);
  }, 60_000);

  it('refuses a POST without the CSRF token (from the page itself)', async () => {
    await page.goto(serve.url + '/schedules');
    const status = await page.evaluate(async () => {
      const r = await fetch('/api/schedules/critical_metadata_schedule/start', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return r.status;
    });
    expect(status).toBe(403);
    const list = JSON.parse((await runCli(built.bin, root, ['schedule', 'list', '--json', '-p', 'pipelines'], env)).stdout) as { schedules: Array<{ name: string; status: string }> };
    expect(list.schedules.find((s) => s.name === 'critical_metadata_schedule')!.status).toBe('stopped');
  });

  it('opens /runs/<id> (the Slack link) directly, and the asset and runs pages', async () => {
    const runs = (await (await page.request.get(`${serve.url}/api/runs?status=success`)).json()) as { runs: Array<{ id: string }> };
    const id = runs.runs[0]!.id;
    const fresh = await context.newPage();
    await record(fresh);
    await fresh.goto(`${serve.url}/runs/${id}`);
    await fresh.waitForSelector(`.run-page[data-run="${id}"]`);
    await fresh.goto(`${serve.url}/assets/openmetadata/trino/lineage`);
    await fresh.waitForSelector('pre.config');
    expect(await fresh.textContent('pre.config')).toContain('password: "***"');
    expect(await fresh.$$eval('ul[data-role=deps] a', (as) => as.map((a) => a.textContent))).toEqual(['openmetadata/trino/metadata']);
    await fresh.goto(`${serve.url}/runs?status=failure`);
    await fresh.waitForSelector('table.runs-table tbody tr');
    expect(await fresh.$$eval('table.runs-table tbody tr', (trs) => trs.map((t) => t.getAttribute('data-status')))).toEqual(['failure']);
    await fresh.close();
  });

  it('at 390 px wide no page is wider than the screen (the real pipelines)', async () => {
    const failed = ((await (await page.request.get(`${serve.url}/api/runs?status=failure`)).json()) as { runs: Array<{ id: string }> }).runs[0]!.id;
    const phone = await context.newPage();
    await record(phone);
    await phone.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [url, ready] of pagesToShoot(failed)) {
        await phone.goto(serve.url + url);
        await phone.waitForSelector(ready);
        await phone.waitForTimeout(200);
        const m = await phone.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: innerWidth }));
        expect(m.sw, url).toBeLessThanOrEqual(m.iw);
      }
    } finally {
      await phone.close();
    }
  }, 60_000);

  it.runIf(SHOTS)('writes screenshots of each page to docs/screenshots/, at desktop and at 390 px', async () => {
    const dir = path.join(PROJECT_ROOT, 'docs', 'screenshots');
    fs.mkdirSync(dir, { recursive: true });
    const failed = ((await (await page.request.get(`${serve.url}/api/runs?status=failure`)).json()) as { runs: Array<{ id: string }> }).runs[0]!.id;
    const csrf = { 'x-csrf-token': (await page.getAttribute('meta[name=csrf-token]', 'content')) ?? '' };
    await page.request.post(`${serve.url}/api/schedules/critical_metadata_schedule/start`, { headers: csrf });
    try {
      for (const [width, height, suffix] of [[1440, 900, ''], [390, 844, '-phone']] as const) {
        for (const [url, ready, name, tall] of pagesToShoot(failed)) {
          if (!name) continue;
          await page.setViewportSize({ width, height: tall && !suffix ? 1300 : height });
          await page.goto(serve.url + url);
          await page.waitForSelector(ready);
          await page.waitForTimeout(400);
          await page.screenshot({ path: path.join(dir, `${name}${suffix}.png`), fullPage: suffix !== '' });
        }
      }
    } finally {
      await page.request.post(`${serve.url}/api/schedules/critical_metadata_schedule/stop`, { headers: csrf });
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  }, 120_000);

  it('no response the browser received contained a planted secret', async () => {
    // Visit every step of every run so the finished streams are read whole.
    const runs = (await (await page.request.get(`${serve.url}/api/runs`)).json()) as { runs: Array<{ id: string; steps: Array<{ key: string }> }> };
    for (const r of runs.runs) {
      for (const s of r.steps) {
        const es = page.waitForResponse((res) => res.url().includes(`/api/runs/${r.id}/stream?key=`));
        await page.goto(`${serve.url}/runs/${r.id}`);
        await page.click(`.tl-row[data-key="${s.key}"]`);
        await es;
      }
    }
    await page.waitForTimeout(500);
    const all = received.join('\n');
    expect(received.length).toBeGreaterThan(50);
    expect(all).toContain('***'); // masked values were there to see
    for (const secret of [JWT, ...Object.values(SECRETS), slack.url, 's3cr3tW3bh00kT0k3n']) expect(all.includes(secret), `a response contained ${secret.slice(0, 6)}…`).toBe(false);
  }, 60_000);
});

describe('live logs (command assets)', () => {
  it("a running step's log grows in the page (server-sent events)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-ui-live-'));
    fs.mkdirSync(path.join(dir, 'pipelines'));
    fs.writeFileSync(
      path.join(dir, 'pipelines', 'main.yaml'),
      'assets:\n  - key: live/ticker\n    handler: command\n    config: {run: [sh, -c, "for i in $(seq 1 12); do echo line-$i; sleep 0.3; done"]}\n',
    );
    const s = await startServe(built.bin, dir, ['-p', 'pipelines'], { RUNNER_HOME: path.join(dir, 'home'), RUNNER_ENV: undefined, DAGSTER_ENV: undefined, RUNNER_UI_TOKEN: undefined });
    const p = await context.newPage();
    try {
      await p.goto(`${s.url}/launch?select=live/ticker`);
      await p.waitForSelector('ol.plan li');
      await p.click('button.primary:not([disabled])');
      await p.waitForURL(/\/runs\//);
      await p.waitForSelector('pre.log');
      const lengths: number[] = [];
      for (let i = 0; i < 80; i++) {
        const status = await p.getAttribute('.tl-row[data-key="live/ticker"]', 'data-status');
        const text = (await p.textContent('pre.log')) ?? '';
        if (status === 'running' && text.includes('line-')) lengths.push(text.length);
        if (status === 'success') break;
        await p.waitForTimeout(150);
      }
      // Seen growing at least three times while the step was still running.
      const growth = lengths.filter((n, i) => i > 0 && n > lengths[i - 1]!).length;
      expect(growth).toBeGreaterThanOrEqual(3);
      await p.waitForSelector('.run-page[data-status="success"]');
      expect(await p.textContent('pre.log')).toBe(Array.from({ length: 12 }, (_, i) => `line-${i + 1}`).join('\n') + '\n');
    } finally {
      await p.close();
      await s.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('on a non-loopback address', () => {
  it('serve refuses to start without a token (exit 2, a clear message)', async () => {
    const r = await runCli(built.bin, root, ['serve', '-p', 'pipelines', '--host', '0.0.0.0', '--port', '0'], { ...env, RUNNER_UI_TOKEN: undefined });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('without a token');
    expect(r.stderr).toContain('RUNNER_UI_TOKEN');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('refuses a page without the token; ?token= once opens it; probes stay open', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-ui-token-'));
    const s = await startServe(built.bin, root, ['-p', 'pipelines', '--host', '0.0.0.0'], { ...env, RUNNER_HOME: home, RUNNER_UI_TOKEN: UI_TOKEN });
    const ctx = await browser.newContext();
    try {
      const p = await ctx.newPage();
      const refused = await p.goto(`${s.url}/assets`);
      expect(refused!.status()).toBe(401);
      expect(await p.textContent('body')).toContain('Token required');
      expect((await p.request.get(`${s.url}/api/runs`)).status()).toBe(401);
      expect((await p.request.get(`${s.url}/api/runs`, { headers: { authorization: `Bearer ${UI_TOKEN}` } })).status()).toBe(200);
      for (const probe of ['/healthz', '/readyz', '/metrics']) expect((await p.request.get(s.url + probe)).status(), probe).toBe(200);
      const ok = await p.goto(`${s.url}/assets?token=${UI_TOKEN}`);
      expect(ok!.status()).toBe(200);
      expect(new URL(p.url()).search).toBe('');
      await p.waitForSelector('svg.asset-graph g.node');
      expect(await p.$$eval('svg.asset-graph g.node', (gs) => gs.length)).toBe(12);
      const cookie = (await ctx.cookies()).find((c) => c.name === 'runner_ui_session')!;
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      expect(cookie.value).not.toContain(UI_TOKEN);
    } finally {
      await ctx.close();
      await s.stop();
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('size', () => {
  it('the built JS stays under 200 KB gzipped', () => {
    const js = fs.readdirSync(built.uiDir).filter((f) => f.endsWith('.js'));
    expect(js).toContain('app.js');
    const total = js.reduce((n, f) => n + zlib.gzipSync(fs.readFileSync(path.join(built.uiDir, f)), { level: 9 }).length, 0);
    expect(total).toBeLessThan(200 * 1024);
  });
});
