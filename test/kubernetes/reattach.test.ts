/**
 * The runner that started a step's Job *dies* (SIGKILL: no handover, unlike a SIGTERMed
 * serve, see handover.test.ts): the store's reaper marks its run failed ("the runner
 * exited"), and the next serve finds the Job by its labels, follows it (the log resumes
 * after the last recorded line's timestamp: what the pod printed meanwhile is kept, no
 * line repeated; its end becomes the step's result) and reaps a running Job whose run is
 * not in its store. Nothing is left running that no runner watches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { cliEntry, runCli, startCli } from '../execution/cli-entry.js';
import { startServe, waitFor } from '../serve/proc.js';
import { startFakeKubernetes, type FakeKubernetes } from '../support/fake-kubernetes/index.js';
import { buildStepObjects } from '../../src/launchers/kubernetes/manifest.js';
import { asset } from './helpers.js';

let api: FakeKubernetes;
let root: string;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  api = await startFakeKubernetes({ script: () => ({ lines: ['before the restart'], forever: true }), deleteGraceMs: 50 });
  root = mkdtempSync(path.join(tmpdir(), 'k8s-reattach-'));
  dir = path.join(root, 'pipelines');
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, 'p.yaml'),
    YAML.stringify({
      environments: { default: 'k8s', k8s: { kubernetes: { namespace: 'data', image: 'busybox:1.36' } } },
      assets: [{ key: 'long/profile', handler: 'command', config: { run: ['sleep', '57600'] } }],
    }),
  );
  env = { RUNNER_HOME: path.join(root, 'home'), KUBECONFIG: api.kubeconfig(root) };
  await cliEntry();
}, 120_000);

afterAll(async () => {
  await api?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('runner serve re-attaches to its Jobs after a restart', () => {
  it('follows the Job of a run whose runner died, records its end, and reaps a stray Job', async () => {
    const run = await startCli(['materialize', '-p', dir, '--select', 'long/profile', '--output', 'plain'], { cwd: root, env });
    // The dying runner has recorded the pod's first line: the next serve must not repeat it.
    const recorded = () => {
      const logs = path.join(env.RUNNER_HOME!, 'logs');
      return existsSync(logs) && readdirSync(logs).some((r) => existsSync(path.join(logs, r, 'long__profile.log')) && readFileSync(path.join(logs, r, 'long__profile.log'), 'utf8').includes('before the restart'));
    };
    await waitFor('the runner to record the pod\'s first line', recorded, 60_000);
    run.child.kill('SIGKILL');
    await run.exit;
    const podKey = [...api.cluster.pods.keys()][0]!;
    // A Job of a run this store does not know, still running: nobody watches it.
    const stray = buildStepObjects({ argv: ['sleep', '1'], env: {}, secretEnv: {}, files: [] }, { runId: 'run-of-nobody', asset: asset('long/profile'), attempt: 1 }, { settings: { image: 'busybox:1.36' }, envName: 'k8s', namespace: 'data' });
    api.cluster.createJob('data', stray.job);
    api.cluster.write(podKey, ['while no runner ran']);

    const serve = await startServe(root, ['-p', dir, '--env', 'k8s'], env);
    try {
      await waitFor('serve to re-attach', () => serve.lines.some((l) => l.includes('re-attached to Job')), 20_000);
      await waitFor('the stray Job to be reaped', () => !api.cluster.jobs.has(`data/${stray.name}`) && ![...api.cluster.pods.values()].some((p) => p.metadata!.name!.startsWith(stray.name)), 20_000);
      const del = api.requests.filter((q) => q.method === 'DELETE');
      expect(del.map((q) => q.path)).toEqual([`/apis/batch/v1/namespaces/data/jobs/${stray.name}`]);
      expect(del[0]!.query.propagationPolicy).toBe('Background');
      expect(api.cluster.pods.has(podKey)).toBe(true); // the followed one keeps running

      api.cluster.release(podKey, ['after the restart', 'profile complete']);
      const runs = async () => JSON.parse((await runCli(['runs', '--json', '-p', dir], { cwd: root, env })).stdout).runs;
      const id = (await runs())[0].id;
      const shown = await waitFor(
        'the step result',
        async () => {
          const s = JSON.parse((await runCli(['show', id, '--json', '-p', dir], { cwd: root, env })).stdout);
          return s.steps[0].status === 'success' ? s : undefined;
        },
        20_000,
        200,
      );
      expect(shown.steps[0].metadata).toMatchObject({ reattached: true });
      // A crash is not a handover: the run ended when its runner died (the reaper said so); only the step's result is added.
      expect(shown.status).toBe('failure');
      expect(shown.error).toBe('the runner exited');
      const log = (await runCli(['logs', id, 'long/profile', '-p', dir], { cwd: root, env })).stdout;
      expect(log.split('\n').filter((l) => l.includes('before the restart'))).toHaveLength(1); // not repeated
      expect(log).toContain('re-attached to Job');
      expect(log.split('\n').filter((l) => l === 'while no runner ran')).toHaveLength(1); // not lost
      expect(log.indexOf('while no runner ran')).toBeGreaterThan(log.indexOf('before the restart'));
      expect(api.requests.some((q) => q.path.endsWith('/log') && q.query.sinceTime)).toBe(true);
      expect(log).toContain('after the restart');
      expect(log).toContain('profile complete');
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  }, 120_000);
});
