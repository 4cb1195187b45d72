/**
 * The runs list and run logs of the web UI's API at scale, mounted in-process: paging
 * past the first 100 runs and a date range; one merged log of all steps with times,
 * steps and streams; and the answers to unknown paths (the app's not-found page, JSON for
 * the API), every one with the security headers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfOf, mountUi, request, until, writePipelines, type MountedUi } from './inprocess.js';

const YAML = `
assets:
  - key: mix/talker
    group: mix
    handler: command
    config: {run: [sh, -c, "echo out-1; sleep 0.8; echo err-1 >&2; sleep 0.8; echo out-2"]}
  - key: mix/other
    group: mix
    handler: command
    config: {run: [sh, -c, "sleep 0.4; echo other-1; sleep 0.8; printf '\\\\033[31mred\\\\033[0m\\\\n' >&2"]}
`;

let root: string;
let ui: MountedUi;
let csrf: string;
const RUNS = 130;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-ui-runs-'));
  const pipelines = writePipelines(root, YAML);
  const uiDir = path.join(root, 'ui');
  fs.mkdirSync(uiDir);
  fs.writeFileSync(path.join(uiDir, 'app.js'), 'console.log("app")');
  ui = await mountUi(pipelines, path.join(root, 'home'), { processEnv: { ...process.env, RUNNER_ENV: '', DAGSTER_ENV: '' }, uiDir });
  csrf = await csrfOf(ui.url);
  // 130 recorded runs, one a day back from 2024-06-30 (the store's own rows, dated by hand).
  const setDate = ui.store.db.prepare('UPDATE runs SET created_at = ? WHERE id = ?');
  for (let i = 0; i < RUNS; i++) {
    const id = randomUUID();
    ui.store.createRun({ id, trigger: { type: 'manual' }, env: 'default', selection: 'mix/other', keys: ['mix/other'], pipelinesDir: pipelines });
    setDate.run(new Date(Date.UTC(2024, 5, 30 - i, 12)).toISOString(), id);
  }
});

afterAll(async () => {
  await ui?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('runs list', () => {
  it('pages: 100 runs, then the 101st and on with offset; total and next_offset say where it ends', async () => {
    const first = (await request(`${ui.url}/api/runs?limit=100`)).json;
    expect(first.runs).toHaveLength(100);
    expect(first).toMatchObject({ total: RUNS, offset: 0, next_offset: 100 });
    const second = (await request(`${ui.url}/api/runs?limit=100&offset=100`)).json;
    expect(second.runs).toHaveLength(RUNS - 100);
    expect(second.next_offset).toBeNull();
    const ids = [...first.runs, ...second.runs].map((r: any) => r.id);
    expect(new Set(ids).size).toBe(RUNS);
    // Newest first across the pages: the 101st run is the day after the 100th, going back.
    expect(first.runs[99].id).not.toBe(second.runs[0].id);
    const dates = [...first.runs, ...second.runs].map((r: any) => (ui.store.db.prepare('SELECT created_at FROM runs WHERE id = ?').get(r.id) as any).created_at);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('a date range: since inclusive, until exclusive; bad times are 400', async () => {
    const doc = (await request(`${ui.url}/api/runs?since=2024-06-01&until=2024-06-11`)).json;
    expect(doc.total).toBe(10);
    expect(doc.runs).toHaveLength(10);
    const iso = (await request(`${ui.url}/api/runs?since=2024-06-29T00:00:00Z`)).json;
    expect(iso.total).toBe(2);
    const bad = await request(`${ui.url}/api/runs?since=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('since must be an ISO 8601 time');
    expect((await request(`${ui.url}/api/runs?offset=-1`)).status).toBe(400);
  });
});

describe('merged log of a run', () => {
  it('every step’s lines by time, each with its step and stream', async () => {
    const started = await request(`${ui.url}/api/runs`, { method: 'POST', body: { select: 'mix/*' }, headers: { 'x-csrf-token': csrf } });
    expect(started.status).toBe(201);
    const id = started.json.run_id;
    await until('the run to finish', async () => ['success', 'failure'].includes((await request(`${ui.url}/api/runs/${id}`)).json.status));
    const doc = (await request(`${ui.url}/api/runs/${id}/logs`)).json;
    expect(doc.truncated).toBe(false);
    const lines = doc.lines.map((l: any) => `${l.key} ${l.stream} ${l.line}`);
    expect(lines).toEqual(['mix/talker stdout out-1', 'mix/other stdout other-1', 'mix/talker stderr err-1', 'mix/other stderr \x1b[31mred\x1b[0m', 'mix/talker stdout out-2']);
    const times = doc.lines.map((l: any) => Date.parse(l.ts));
    expect(times.every((t: number) => Number.isFinite(t))).toBe(true);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  }, 30_000);
});

describe('unknown paths', () => {
  it('a page path gets the app (its not-found page) with 404; API and static paths a JSON 404; all with the security headers', async () => {
    const page = await request(`${ui.url}/no/such/page`);
    expect(page.status).toBe(404);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('<div id="app"></div>');
    for (const p of ['/api/nothing', '/static/nope.js', '/no/such/page', '/api/runs']) {
      const a = await request(ui.url + p);
      expect(a.headers['content-security-policy'], p).toContain("default-src 'self'");
      expect(a.headers['x-content-type-options'], p).toBe('nosniff');
      expect(a.headers['x-frame-options'], p).toBe('DENY');
    }
    const api = await request(`${ui.url}/api/nothing`);
    expect(api.status).toBe(404);
    expect(api.json.error).toContain('/api/nothing');
    const post = await request(`${ui.url}/no/such/page`, { method: 'POST', body: {} });
    expect(post.status).toBe(404);
    expect(post.headers['x-frame-options']).toBe('DENY');
  });
});
