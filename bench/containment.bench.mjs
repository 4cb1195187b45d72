// Step containment: the cost of a step's end (one `true` per step, run one after another)
// with and without a cgroup, and the time to cancel 32 concurrent steps that each left a
// child outside their group (the target: kill grace + about 1 s). Bundles src/ with
// esbuild into a temporary file, since dist/ holds only the CLI.
import { build } from 'esbuild';
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-bench-contain-'));
const entry = path.join(tmp, 'entry.ts');
fs.writeFileSync(entry, `export * from ${JSON.stringify(path.join(root, 'src/execution/containment/step.ts'))};\nexport * from ${JSON.stringify(path.join(root, 'src/execution/step-process.ts'))};\nexport * from ${JSON.stringify(path.join(root, 'src/execution/containment/cgroup.ts'))};\nexport * from ${JSON.stringify(path.join(root, 'src/execution/containment/cgroup-pool.ts'))};\n`);
await build({ entryPoints: [entry], outfile: path.join(tmp, 'c.mjs'), bundle: true, format: 'esm', platform: 'node', target: 'node20', external: ['execa'], logLevel: 'warning', absWorkingDir: root, nodePaths: [path.join(root, 'node_modules')] });
fs.symlinkSync(path.join(root, 'node_modules'), path.join(tmp, 'node_modules'));
const m = await import(pathToFileURL(path.join(tmp, 'c.mjs')).href);
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const N = Number(process.argv[2] ?? 100);
const GRACE = 300;

async function stepEnds(cgroups) {
  const runId = `bench-${cgroups ? 'cg' : 'mark'}-${process.pid}`;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const contain = new m.StepContainment({ runId, key: `s${i}`, attempt: 1, cgroups });
    await m.runStepProcess('true', [], { contain, signal: new AbortController().signal, env, pipeGraceMs: 0, onLine: () => {} });
  }
  m.closeRunCgroups(runId);
  return (performance.now() - t0) / N;
}

async function cancel32() {
  const ac = new AbortController();
  setMaxListeners(64, ac.signal);
  let up = 0;
  const done = Array.from({ length: 32 }, (_, i) => {
    const contain = new m.StepContainment({ runId: `bench-cancel-${process.pid}`, key: `s${i}`, attempt: 1, cgroups: false });
    return m.runStepProcess('sh', ['-c', 'setsid sleep 1000 & echo up; exec sleep 1000'], { contain, signal: ac.signal, env, killGraceMs: GRACE, onLine: (l) => l === 'up' && up++ });
  });
  while (up < 32) await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  ac.abort();
  await Promise.all(done);
  return performance.now() - t0;
}

const cg = m.cgroupBase() !== null;
console.log(`| what | figure |\n|---|---|`);
console.log(`| step end, mark alone (${N} steps) | ${(await stepEnds(false)).toFixed(1)} ms/step |`);
console.log(`| step end, mark and cgroup (${N} steps) | ${cg ? `${(await stepEnds(true)).toFixed(1)} ms/step` : 'no cgroup v2 delegation here'} |`);
const c = await cancel32();
console.log(`| cancel 32 concurrent steps (grace ${GRACE} ms) | ${c.toFixed(0)} ms (target < ${GRACE + 1000} ms) |`);
console.log(`\nload average: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
fs.rmSync(tmp, { recursive: true, force: true });
if (c > GRACE + 1000) process.exitCode = 1;
