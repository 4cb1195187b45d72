/**
 * Opt-in, against a real cluster: set RUNNER_TEST_KUBECONFIG (and RUNNER_TEST_NAMESPACE,
 * default `default`). Runs busybox Jobs through the Kubernetes launcher: a step that
 * reads its secret and its file by reference and succeeds, one that exits 3, and one that
 * is canceled (its Job deleted, its pod gone). It deletes what it created.
 */
import { describe, expect, it } from 'vitest';
import { KubernetesLauncher } from '../../src/launchers/kubernetes/launcher.js';
import type { ResolvedEnvironment } from '../../src/definitions/environment.js';
import type { KubernetesSettingsDef } from '../../src/definitions/model.js';
import type { CommandSpec } from '../../src/launchers/spec.js';
import { asset } from './helpers.js';

const KUBECONFIG = process.env.RUNNER_TEST_KUBECONFIG;
const namespace = process.env.RUNNER_TEST_NAMESPACE ?? 'default';
const runId = `test-${Date.now().toString(36)}`;

function launcher() {
  const env = { name: 'real', vars: {}, openmetadata: {}, kubernetes: { namespace, image: 'busybox:1.36', resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '64Mi' } }, ttl_after_finished: '10m', pending_timeout: '5m' } } as ResolvedEnvironment & { kubernetes: KubernetesSettingsDef };
  return new KubernetesLauncher(env, { processEnv: { KUBECONFIG } });
}

describe.skipIf(!KUBECONFIG)('a real cluster (RUNNER_TEST_KUBECONFIG)', () => {
  it('runs a Job that reads its secret and file by reference', async () => {
    const spec: CommandSpec = { argv: ['sh', '-c', 'echo "token has ${#TOKEN} characters"; wc -c < /runner/files/conf.txt; echo done'], env: {}, secretEnv: { TOKEN: 'abcdefghij' }, files: [{ name: 'conf.txt', content: '12345' }] };
    const lines: string[] = [];
    const r = await launcher().run(spec, { runId, asset: asset('real/ok'), attempt: 1, signal: new AbortController().signal, log: (l, s) => s !== 'stderr' && lines.push(l) });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, exitCode: 0 });
    expect(lines.map((l) => l.trim())).toEqual(['token has 10 characters', '5', 'done']);
  }, 300_000);

  it('reports an exit code', async () => {
    const r = await launcher().run({ argv: ['sh', '-c', 'echo failing; exit 3'], env: {}, secretEnv: {}, files: [] }, { runId, asset: asset('real/fail'), attempt: 1, signal: new AbortController().signal, log: () => undefined });
    expect(r).toMatchObject({ ok: false, exitCode: 3 });
  }, 300_000);

  it('cancels: deletes the Job and waits until the pod is gone', async () => {
    const ac = new AbortController();
    const lines: string[] = [];
    const p = launcher().run({ argv: ['sh', '-c', 'echo started; sleep 3600'], env: {}, secretEnv: {}, files: [] }, { runId, asset: asset('real/cancel'), attempt: 1, signal: ac.signal, log: (l) => lines.push(l) });
    while (!lines.includes('started')) await new Promise((r) => setTimeout(r, 500));
    ac.abort('canceled');
    const r = await p;
    expect(r).toMatchObject({ ok: false, error: 'canceled' });
  }, 300_000);
});
