/**
 * The chart's init container against the layout the kubelet gives a ConfigMap volume
 * (every file a symlink into a hidden, timestamped folder behind `..data`): the rendered
 * command, run here on a copy of that layout, must leave regular files that `runner check`
 * loads, the same definitions as the repository's pipelines.
 */
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { find, helmMissing, renderChart } from './helm.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const runner = path.join(root, 'bin/runner.js');

/** Lays `src` out as the kubelet's atomic writer does in a ConfigMap volume at `vol`. */
function configMapVolume(src: string, vol: string): void {
  const stamp = '..2026_12_03_14_00_00.123456789';
  cpSync(src, path.join(vol, stamp), { recursive: true });
  symlinkSync(stamp, path.join(vol, '..data'));
  for (const name of readdirSync(src)) symlinkSync(path.join('..data', name), path.join(vol, name));
}

async function check(dir: string, home: string) {
  return execa('node', [runner, 'check', '--json'], { env: { RUNNER_PIPELINES: dir, RUNNER_HOME: home }, reject: false, all: true });
}

describe('the pipelines init container', () => {
  let tmp: string;
  beforeAll(() => {
    const missing = helmMissing();
    if (missing) throw new Error(missing);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'runner-cm-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('turns the ConfigMap volume into regular files that runner check loads', async () => {
    const r = await renderChart({ ui: { token: 'ui-token-0123456789abcdef' }, pipelines: { source: 'configMap', existingConfigMap: 'team-pipelines' } });
    expect(r.exitCode, r.stderr).toBe(0);
    const pod = (find(r.objects, 'Deployment') as unknown as V1Deployment).spec!.template.spec!;
    const init = pod.initContainers!.find((c) => c.name === 'pipelines')!;
    const mounts = Object.fromEntries(init.volumeMounts!.map((m) => [m.name, m.mountPath]));
    const serveMount = pod.containers[0]!.volumeMounts!.find((m) => m.name === 'pipelines')!.mountPath;
    expect(serveMount).toBe(mounts.pipelines);

    const vol = path.join(tmp, 'configmap');
    const dest = path.join(tmp, 'pipelines');
    mkdirSync(vol);
    mkdirSync(dest);
    configMapVolume(path.join(root, 'pipelines'), vol);
    expect(lstatSync(path.join(vol, 'platform.yaml')).isSymbolicLink()).toBe(true);

    // The rendered command, with the pod's mount paths mapped to the folders here.
    const [shell, flag, script] = init.command!;
    expect([shell, flag]).toEqual(['sh', '-c']);
    const local = script!.split(mounts['pipelines-configmap']!).join(vol).split(mounts.pipelines!).join(dest);
    expect(local).not.toContain('/etc/runner');
    const copied = await execa(shell!, [flag!, local], { reject: false, all: true });
    expect(copied.exitCode, copied.all).toBe(0);

    expect(readdirSync(dest).sort()).toEqual(readdirSync(path.join(root, 'pipelines')).sort());
    expect(lstatSync(path.join(dest, 'openmetadata')).isDirectory()).toBe(true);
    expect(lstatSync(path.join(dest, 'openmetadata/trino.yaml')).isFile()).toBe(true);

    const home = path.join(tmp, 'home');
    const fromCopy = await check(dest, home);
    const fromRepo = await check(path.join(root, 'pipelines'), home);
    expect(fromCopy.exitCode, fromCopy.all).toBe(0);
    expect(JSON.parse(fromCopy.stdout)).toMatchObject({ valid: true, summary: JSON.parse(fromRepo.stdout).summary });
    expect(JSON.parse(fromCopy.stdout).summary.assets).toBeGreaterThan(0);
  });
});
