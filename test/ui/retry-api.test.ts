/**
 * `POST /api/runs/:id/retry` (the run page's "Re-run failed"): the same guard as launching
 * (CSRF token, origin), a new run of the steps that did not succeed with the trigger
 * `retry of ID`, and its refusals: 404 unknown run, 409 running or succeeded, 400 when the
 * pipeline files no longer define a step's asset.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfOf, mountUi, request, until, writePipelines, type Answer, type MountedUi } from './inprocess.js';

let root: string;
let marker: string;
let ui: MountedUi;
let csrf: string;

const yaml = (m: string) => `
assets:
  - key: r/first
    handler: command
    config: {run: [sh, -c, "test -f '${m}' || { echo 'not yet' >&2; exit 3; }"]}
  - key: r/second
    deps: [r/first]
    handler: command
    config: {run: [sh, -c, "echo second"]}
  - key: r/other
    handler: command
    config: {run: [sh, -c, "echo other"]}
  - key: r/sleeper
    handler: command
    config: {run: [sh, -c, "sleep 30"]}
`;

const call = (p: string, opts: Parameters<typeof request>[1] = {}): Promise<Answer> => request(ui.url + p, opts);
const post = (p: string, body: unknown = {}, headers: Record<string, string> = { 'x-csrf-token': csrf }) => call(p, { method: 'POST', body, headers });

async function finished(id: string): Promise<any> {
  return until(`run ${id} to finish`, async () => {
    const r = (await call(`/api/runs/${id}`)).json;
    return ['success', 'failure', 'canceled'].includes(r.status) ? r : undefined;
  });
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-ui-retry-'));
  marker = path.join(root, 'ok');
  const pipelines = writePipelines(root, yaml(marker));
  ui = await mountUi(pipelines, path.join(root, 'home'), { processEnv: { ...process.env, RUNNER_ENV: '', DAGSTER_ENV: '' }, uiDir: null });
  csrf = await csrfOf(ui.url);
});

afterAll(async () => {
  await ui?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('POST /api/runs/:id/retry', () => {
  it('starts a run of the failed and skipped steps, as a retry of the run; a second one of a succeeded run is 409', async () => {
    const first = (await post('/api/runs', { select: 'r/first or r/second or r/other' })).json.run_id as string;
    const failed = await finished(first);
    expect(failed.steps.map((s: any) => [s.key, s.status])).toEqual([
      ['r/first', 'failure'],
      ['r/other', 'success'],
      ['r/second', 'skipped'],
    ]);
    fs.writeFileSync(marker, '');

    // The guard of every POST: no CSRF token, a wrong one, another origin.
    expect((await post(`/api/runs/${first}/retry`, {}, {})).status).toBe(403);
    expect((await post(`/api/runs/${first}/retry`, {}, { 'x-csrf-token': 'wrong' })).status).toBe(403);
    expect((await post(`/api/runs/${first}/retry`, {}, { 'x-csrf-token': csrf, origin: 'http://evil.example' })).status).toBe(403);
    expect((await call('/api/runs?limit=10')).json.runs).toHaveLength(1);

    const a = await post(`/api/runs/${first.slice(0, 8)}/retry`);
    expect(a.status).toBe(201);
    expect(a.json).toEqual({ run_id: expect.any(String), url: `/runs/${a.json.run_id}`, retry_of: first });
    const retry = await finished(a.json.run_id);
    expect(retry).toMatchObject({ status: 'success', retry_of: first, trigger: { type: 'retry', retry_of: first } });
    expect(retry.steps.map((s: any) => [s.key, s.status])).toEqual([
      ['r/first', 'success'],
      ['r/second', 'success'],
    ]);
    expect((await call('/api/runs?trigger=retry')).json.runs.map((r: any) => r.id)).toEqual([retry.id]);

    const again = await post(`/api/runs/${retry.id}/retry`);
    expect(again.status).toBe(409);
    expect(again.json.error).toBe(`run ${retry.id.slice(0, 8)} succeeded: there is nothing to retry (run it again with \`runner materialize\`)`);
  });

  it('is 409 while a retry of the same run has not finished (a double click starts one retry)', async () => {
    const id = (await post('/api/runs', { select: 'r/sleeper' })).json.run_id as string;
    await until('the step to run', async () => (await call(`/api/runs/${id}`)).json.steps[0].status === 'running');
    expect((await post(`/api/runs/${id}/cancel`)).status).toBe(202);
    await finished(id);
    const [one, two] = await Promise.all([post(`/api/runs/${id}/retry`), post(`/api/runs/${id}/retry`)]);
    expect([one.status, two.status].sort()).toEqual([201, 409]);
    const started = (one.status === 201 ? one : two).json.run_id as string;
    const refused = one.status === 409 ? one : two;
    expect(refused.json.error).toBe(`run ${id} is already being retried by run ${started}, which has not finished`);
    expect((await call(`/api/runs?trigger=retry`)).json.runs.filter((r: any) => r.retry_of === id)).toHaveLength(1);
    expect((await post(`/api/runs/${started}/cancel`)).status).toBe(202);
    await finished(started);
  });

  it('is 409 for a run that is still running, 404 for an unknown run', async () => {
    const id = (await post('/api/runs', { select: 'r/sleeper' })).json.run_id as string;
    await until('the step to run', async () => (await call(`/api/runs/${id}`)).json.steps[0].status === 'running');
    const r = await post(`/api/runs/${id}/retry`);
    expect(r.status).toBe(409);
    expect(r.json.error).toContain('is still running');
    expect((await post(`/api/runs/${id}/cancel`)).status).toBe(202);
    await finished(id);
    expect((await post('/api/runs/0000dead/retry')).status).toBe(404);
  });

  it('is 400 naming the asset when the pipeline files no longer define a step to retry', async () => {
    // A failed run recorded with a step whose asset is gone from the files.
    const id = randomUUID();
    ui.store.createRun({ id, trigger: { type: 'manual' }, env: 'default', selection: '*', keys: ['r/other', 'r/gone'], pipelinesDir: ui.defs.dir });
    const ts = new Date().toISOString();
    for (const e of [
      { type: 'run_started', status: 'started' },
      { type: 'step_succeeded', key: 'r/other', status: 'success', attempt: 1 },
      { type: 'step_failed', key: 'r/gone', status: 'failure', attempt: 1, message: 'broken' },
      { type: 'run_finished', status: 'failure', message: '1 step failed' },
    ] as const) ui.store.emit({ ts, run_id: id, ...e });
    const before = (await call('/api/runs?limit=100')).json.runs.length;
    const r = await post(`/api/runs/${id}/retry`);
    expect(r.status).toBe(400);
    expect(r.json.error).toContain('no longer define the asset of a step to retry: `r/gone`');
    expect((await call('/api/runs?limit=100')).json.runs).toHaveLength(before);
  });
});
