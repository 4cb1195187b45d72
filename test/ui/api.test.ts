/**
 * The web UI's JSON API, mounted in-process over a temp project of `command` assets: the
 * documents equal the CLI's `--json` ones, launching a run, the live event stream, the
 * schedule switch, CSRF / Origin / Host / token refusals, and no secret value in any answer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDocument } from '../../src/cli/list-view.js';
import { graphDocument } from '../../src/cli/graph-view.js';
import { scheduleList } from '../../src/schedule/commands.js';
import { csrfOf, mountUi, readEvents, request, until, writePipelines, type Answer, type MountedUi } from './inprocess.js';

const SECRET = 'planted-Secret-value-4711';

const YAML = `
secrets:
  ui_secret:
    env: UI_TEST_SECRET
assets:
  - key: demo/a
    description: The first one
    group: demo
    handler: command
    config: {run: [sh, -c, "echo a-out; echo a-more"], env: {TOKEN: "\${secret:ui_secret}"}}
  - key: demo/b
    group: demo
    deps: [demo/a]
    handler: command
    config: {run: [sh, -c, "echo b-out"]}
  - key: leaky/pw
    group: other
    handler: command
    # Written by mistake with \${env:..}: the response masker still hides the value.
    config: {run: [sh, -c, "echo leaky"], env: {PW: "\${env:UI_TEST_SECRET}"}}
  - key: slow/ticker
    group: other
    handler: command
    config: {run: [sh, -c, "for i in 1 2 3 4 5 6 7 8; do echo tick-$i; sleep 0.25; done"]}
  - key: slow/sleeper
    group: other
    handler: command
    config: {run: [sh, -c, "echo sleeping; sleep 30"]}
  - key: bad/fails
    group: other
    handler: command
    config: {run: [sh, -c, "echo about to fail; echo 'disk full' >&2; exit 3"]}
jobs:
  - name: demo_job
    select: "demo/*"
schedules:
  - name: nightly
    cron: "0 2 * * *"
    timezone: Europe/Berlin
    job: demo_job
`;

let root: string;
let ui: MountedUi;
let csrf: string;
const answers: Answer[] = [];

async function call(p: string, opts: Parameters<typeof request>[1] = {}): Promise<Answer> {
  const a = await request(ui.url + p, opts);
  answers.push(a);
  return a;
}
const post = (p: string, body: unknown = {}, headers: Record<string, string> = {}) => call(p, { method: 'POST', body, headers: { 'x-csrf-token': csrf, ...headers } });

async function finished(id: string): Promise<any> {
  return until(`run ${id} to finish`, async () => {
    const r = (await call(`/api/runs/${id}`)).json;
    return ['success', 'failure', 'canceled'].includes(r.status) ? r : undefined;
  });
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-ui-api-'));
  const pipelines = writePipelines(root, YAML);
  const uiDir = path.join(root, 'ui');
  fs.mkdirSync(uiDir);
  fs.writeFileSync(path.join(uiDir, 'app.js'), 'console.log("app")');
  fs.writeFileSync(path.join(uiDir, 'app.css'), 'body{}');
  ui = await mountUi(pipelines, path.join(root, 'home'), { processEnv: { ...process.env, UI_TEST_SECRET: SECRET, RUNNER_ENV: '', DAGSTER_ENV: '' }, uiDir });
  csrf = await csrfOf(ui.url);
});

afterAll(async () => {
  await ui?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('documents', () => {
  it('GET /api/list, /api/graph and /api/schedules are the CLI documents', async () => {
    expect((await call('/api/list')).json).toEqual(JSON.parse(JSON.stringify(await listDocument(ui.defs))));
    expect((await call('/api/graph')).json).toEqual(graphDocument(ui.defs));
    const schedules = (await call('/api/schedules')).json;
    const cli = scheduleList(ui.defs, ui.store.db, new Date());
    expect(schedules.schedules.map((s: any) => s.name)).toEqual(cli.schedules.map((s) => s.name));
    expect(Object.keys(schedules.schedules[0]).sort()).toEqual(Object.keys(cli.schedules[0]!).sort());
    expect(schedules.schedules[0].next_ticks[0].local).toMatch(/^\d{4}-\d\d-\d\dT02:00:00\+0[12]:00$/);
  });

  it('every client route answers the app page; files come from the app directory', async () => {
    for (const p of ['/', '/assets', '/assets/demo/a', '/runs', '/runs/3f2a9c1e-8d0b-4f7e-9a51-0c6de2b4a7f3', '/schedules', '/launch']) {
      const a = await call(p);
      expect(a.status, p).toBe(200);
      expect(a.headers['content-type']).toContain('text/html');
      expect(a.text).toContain('<div id="app"></div>');
      expect(a.headers['content-security-policy']).toContain("default-src 'self'");
    }
    const js = await call('/static/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toContain('text/javascript');
    expect((await call('/static/..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
    expect((await call('/static/nothing.js')).status).toBe(404);
  });

  it('an asset: its config with secrets as ***, what it runs, its dependents', async () => {
    const a = (await call('/api/assets/demo/a')).json;
    expect(a.asset).toMatchObject({ key: 'demo/a', description: 'The first one', group: 'demo', deps: [], dependents: ['demo/b'] });
    expect(a.config).toEqual({ run: ['sh', '-c', 'echo a-out; echo a-more'], env: { TOKEN: '***' } });
    expect(a.config_yaml).toContain('TOKEN: "***"');
    expect(a.rendered.command).toEqual(['sh', '-c', 'echo a-out; echo a-more']);
    const leaky = (await call('/api/assets/leaky__pw')).json;
    expect(leaky.config.env.PW).toBe('***');
    expect((await call('/api/assets/no/such')).status).toBe(404);
  });

  it('a selection: the keys in dependency order, or the error with a caret', async () => {
    expect((await call(`/api/select?q=${encodeURIComponent('demo/*')}`)).json).toEqual({ selection: 'demo/*', keys: ['demo/a', 'demo/b'] });
    const bad = await call(`/api/select?q=${encodeURIComponent('group:demo and (')}`);
    expect(bad.status).toBe(400);
    expect(bad.json.diagnostics[0].detail[0]).toBe('  group:demo and (');
    expect(bad.json.diagnostics[0].detail[1]).toMatch(/^ +\^+$/);
    const unknown = await call(`/api/select?q=${encodeURIComponent('group:dmeo')}`);
    expect(unknown.json.error).toContain("did you mean 'demo'");
  });

  it('the launch preview: steps in dependency order with what each waits for', async () => {
    const p = (await call(`/api/plan?job=demo_job`)).json;
    expect(p).toEqual({
      selection: 'demo/*',
      job: 'demo_job',
      env: 'default',
      steps: [
        { key: 'demo/a', group: 'demo', handler: 'command', upstream: [] },
        { key: 'demo/b', group: 'demo', handler: 'command', upstream: ['demo/a'] },
      ],
    });
    expect((await call('/api/plan?job=nope')).status).toBe(400);
    expect((await call('/api/plan')).json.error).toContain('a selection or a job');
  });
});

describe('runs', () => {
  let runId: string;

  it('refuses a POST without the CSRF token, with a wrong one, or from another origin; nothing is recorded', async () => {
    const before = (await call('/api/runs')).json.runs.length;
    expect((await call('/api/runs', { method: 'POST', body: { select: 'demo/*' } })).status).toBe(403);
    expect((await post('/api/runs', { select: 'demo/*' }, { 'x-csrf-token': 'forged' })).status).toBe(403);
    expect((await post('/api/runs', { select: 'demo/*' }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post('/api/runs', { select: 'demo/*' }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await call('/api/runs', { method: 'GET' })).json.runs.length).toBe(before);
    // Reads are GETs only.
    expect((await call('/api/runs/x/cancel')).status).toBe(405);
  });

  it('launches a selection: recorded at once, runs in dependency order, same shape as `runner show --json`', async () => {
    const a = await post('/api/runs', { select: 'demo/*' }, { origin: ui.url });
    expect(a.status).toBe(201);
    runId = a.json.run_id;
    expect(a.json.url).toBe(`/runs/${runId}`);
    const run = await finished(runId);
    expect(run).toMatchObject({ id: runId, status: 'success', trigger: { type: 'manual' }, selection: 'demo/*', job: null, error: null });
    expect(Object.keys(run).sort()).toEqual(['alert', 'ended_at', 'env', 'error', 'id', 'job', 'retry_of', 'selection', 'started_at', 'status', 'steps', 'trigger']);
    expect(run.steps.map((s: any) => [s.key, s.status, s.attempts])).toEqual([
      ['demo/a', 'success', 1],
      ['demo/b', 'success', 1],
    ]);
    expect(Object.keys(run.steps[0]).sort()).toEqual(['attempts', 'ended_at', 'error', 'exit_code', 'key', 'log', 'metadata', 'started_at', 'status']);
    expect((await call(`/api/runs/${runId}/log/demo/a`)).text).toBe('a-out\na-more\n');
    expect((await call(`/api/runs/${runId.slice(0, 8)}`)).json.id).toBe(runId);
    expect((await call(`/api/runs/${runId}/events`)).json.events.map((e: any) => e.type)).toContain('run_finished');
  });

  it('a bad launch is 400 with the reason and records nothing', async () => {
    const a = await post('/api/runs', { select: 'nothing/matches/*' });
    expect(a.status).toBe(400);
    expect(a.json.error).toMatch(/nothing/);
    expect((await post('/api/runs', { select: 'demo/*', job: 'demo_job' })).status).toBe(400);
    const notJson = await call('/api/runs', { method: 'POST', body: 'select=demo', headers: { 'x-csrf-token': csrf, 'content-type': 'application/x-www-form-urlencoded' } });
    expect(notJson.status).toBe(400);
  });

  it('a failed run: its error and the failed step’s message', async () => {
    const id = (await post('/api/runs', { select: 'bad/fails' })).json.run_id;
    const run = await finished(id);
    expect(run.status).toBe('failure');
    expect(run.error).toBe('1 step failed');
    expect(run.steps[0].error).toContain('exit code 3: disk full');
    expect(run.steps[0].exit_code).toBe(3);
  });

  it('filters runs by status, trigger and asset', async () => {
    const ids = async (q: string) => (await call(`/api/runs?${q}`)).json.runs.map((r: any) => r.id);
    expect(await ids('asset=demo/b')).toEqual([runId]);
    expect(await ids('asset=demo__a&status=success')).toEqual([runId]);
    expect(await ids('status=failure')).not.toContain(runId);
    expect(await ids('trigger=manual')).toContain(runId);
    expect(await ids('trigger=schedule')).toEqual([]);
    expect(await ids('trigger=nightly')).toEqual([]);
    expect((await call('/api/runs?status=bogus')).status).toBe(400);
    expect((await call('/api/runs?limit=1')).json.runs).toHaveLength(1);
  });

  it('GET /api/assets: each asset with its last finished step', async () => {
    const doc = (await call('/api/assets')).json;
    const a = doc.assets.find((x: any) => x.key === 'demo/a');
    expect(a.last).toMatchObject({ run_id: runId, status: 'success', attempts: 1, exit_code: 0 });
    expect(a.last.duration_ms).toBeGreaterThanOrEqual(0);
    expect(doc.assets.find((x: any) => x.key === 'bad/fails').last.status).toBe('failure');
    expect(doc.assets.find((x: any) => x.key === 'slow/sleeper').last).toBeNull();
  });

  it('streams a running step’s log as it grows, then the end', async () => {
    const id = (await post('/api/runs', { select: 'slow/ticker' })).json.run_id;
    const events = await readEvents(`${ui.url}/api/runs/${id}/stream?key=slow/ticker`, (es) => es.some((e) => e.event === 'end'));
    const logs = events.filter((e) => e.event === 'log');
    const text = logs.map((e) => e.data.text).join('');
    expect(text).toBe(['tick-1', 'tick-2', 'tick-3', 'tick-4', 'tick-5', 'tick-6', 'tick-7', 'tick-8', ''].join('\n'));
    // Several pieces, while the step ran (it ran for about 2 s).
    expect(logs.length).toBeGreaterThanOrEqual(3);
    const runs = events.filter((e) => e.event === 'run').map((e) => e.data);
    expect(runs[0].steps[0].status).toMatch(/pending|running/);
    expect(runs.at(-1).status).toBe('success');
    expect(events.at(-1)!.event).toBe('end');
    // A finished run's stream sends the run and the whole log at once, then ends.
    const again = await readEvents(`${ui.url}/api/runs/${id}/stream?key=slow/ticker`, () => false);
    expect(again.map((e) => e.event)).toEqual(['run', 'log', 'end']);
    expect((await call(`/api/runs/nope/stream`)).status).toBe(404);
  });

  it('cancels a run it started', async () => {
    const id = (await post('/api/runs', { select: 'slow/sleeper' })).json.run_id;
    await until('the step to run', async () => (await call(`/api/runs/${id}`)).json.steps[0].status === 'running');
    expect((await call(`/api/runs/${id}/cancel`, { method: 'POST', headers: { 'x-csrf-token': 'no' } })).status).toBe(403);
    expect((await post(`/api/runs/${id}/cancel`)).status).toBe(202);
    const run = await finished(id);
    expect(run.status).toBe('canceled');
    expect((await post(`/api/runs/${id}/cancel`)).status).toBe(409);
  });
});

describe('schedules', () => {
  it('starts and stops a schedule; history lists its ticks', async () => {
    const on = await post('/api/schedules/nightly/start');
    expect(on.status).toBe(200);
    expect(on.json.schedule).toMatchObject({ name: 'nightly', status: 'running', status_source: 'set' });
    expect(on.json.message).toContain('Schedule nightly started (was stopped).');
    expect((await call('/api/schedules')).json.schedules[0].status).toBe('running');
    const off = await post('/api/schedules/nightly/stop');
    expect(off.json.schedule.status).toBe('stopped');
    expect((await call('/api/schedules/nightly/history')).json).toEqual({ schedule: 'nightly', timezone: 'Europe/Berlin', ticks: [] });
    expect((await post('/api/schedules/nope/start')).status).toBe(404);
    expect((await call('/api/schedules/nightly/start', { method: 'POST' })).status).toBe(403);
  });
});

describe('access', () => {
  it('refuses a Host that is not a loopback name when there is no token', async () => {
    for (const p of ['/', '/api/runs', '/static/app.js']) {
      const a = await call(p, { headers: { host: 'rebound.example:3070' } });
      expect(a.status, p).toBe(403);
    }
  });

  it('with a token: refused without it; a bearer header, or the cookie of one ?token= page load', async () => {
    const token = 'ui-token-for-the-test-0123';
    const t = await mountUi(path.join(root, 'pipelines'), path.join(root, 'home'), { host: '0.0.0.0', token, uiDir: path.join(root, 'ui') });
    try {
      const host = { host: 'runner.example.org:3070' };
      expect((await request(`${t.url}/`, { headers: host })).status).toBe(401);
      expect((await request(`${t.url}/runs`, { headers: host })).text).toContain('Token required');
      expect((await request(`${t.url}/api/runs`, { headers: host })).status).toBe(401);
      expect((await request(`${t.url}/static/app.js`, { headers: host })).status).toBe(401);
      expect((await request(`${t.url}/api/runs`, { headers: { ...host, authorization: `Bearer ${token}` } })).status).toBe(200);
      const login = await request(`${t.url}/runs?token=${token}`, { headers: host });
      expect(login.status).toBe(303);
      expect(login.headers.location).toBe('/runs');
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      expect(cookie).not.toContain(token);
      expect((await request(`${t.url}/runs`, { headers: { ...host, cookie } })).status).toBe(200);
      expect((await request(`${t.url}/api/schedules`, { headers: { ...host, cookie } })).status).toBe(200);
      // A session still needs the CSRF token to change anything; a bearer call does not.
      expect((await request(`${t.url}/api/schedules/nightly/start`, { method: 'POST', headers: { ...host, cookie } })).status).toBe(403);
      const tcsrf = await csrfOf(t.url, { ...host, cookie });
      expect((await request(`${t.url}/api/schedules/nightly/start`, { method: 'POST', headers: { ...host, cookie, 'x-csrf-token': tcsrf } })).status).toBe(200);
      expect((await request(`${t.url}/api/schedules/nightly/stop`, { method: 'POST', headers: { ...host, authorization: `Bearer ${token}` } })).status).toBe(200);
      // An unknown path is the app's not-found page, behind the token like every page.
      expect((await request(`${t.url}/no/such/page`, { headers: host })).status).toBe(401);
      const missing = await request(`${t.url}/no/such/page`, { headers: { ...host, cookie } });
      expect(missing.status).toBe(404);
      expect(missing.text).toContain('<div id="app"></div>');
    } finally {
      await t.close();
    }
  });

  it('no answer carried the planted secret value', () => {
    expect(answers.length).toBeGreaterThan(40);
    for (const a of answers) expect(a.text).not.toContain(SECRET);
  });
});
