// Benchmarks of `runner materialize` (docs/benchmarks.md, "materialize"):
//  1. A DAG of 1,000 `command` assets running `true`, at concurrency 2, `--output plain`
//     to a file; against (a) a bare Node script running the same 1,000 commands through
//     execa at concurrency 2 (no graph, no storage, no output) and (b) `make -j2` on the
//     same DAG written as a Makefile.
//  2. One asset printing 500 MB to stdout: the runner's peak RSS, and the log file holds
//     every byte.
// Needs `npm run build` (bench/run.mjs builds first). Options: --steps N, --repeat N,
// --mb N (size of the big output), --only dag|big.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// A snapshot of the built CLI, so that a rebuild of dist/ meanwhile cannot break a run. It
// lives under node_modules/ so the bundle's external imports (better-sqlite3) resolve.
const snapshot = path.join(root, 'node_modules', '.cache', `runner-bench-${process.pid}`);
fs.cpSync(path.join(root, 'dist'), path.join(snapshot, 'dist'), { recursive: true });
const runner = path.join(snapshot, 'dist', 'cli.js');
process.on('exit', () => fs.rmSync(snapshot, { recursive: true, force: true }));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const STEPS = Number(opt('steps', 1000));
const REPEAT = Number(opt('repeat', 3));
const MB = Number(opt('mb', 500));
const ONLY = opt('only', 'all');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(0)} ms`;

/** A deterministic DAG: node i depends on up to two earlier nodes (a seeded LCG). */
function dag(n) {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const key = (i) => `bench/n${String(i).padStart(4, '0')}`;
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const deps = new Set();
    if (i > 0) for (let d = 0; d < 2; d++) if (rnd() < 0.7) deps.add(key(Math.max(0, i - 1 - Math.floor(rnd() * 40))));
    nodes.push({ key: key(i), deps: [...deps] });
  }
  return nodes;
}

/** Runs a command; resolves with wall time (ms) and exit code. */
function timed(file, argv, { env = {}, stdout = 'ignore', cwd = root } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, argv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', stdout, 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code }));
  });
}

async function benchDag() {
  const nodes = dag(STEPS);
  const pipelines = path.join(tmp, 'dag', 'pipelines');
  fs.mkdirSync(pipelines, { recursive: true });
  const yaml = ['runner:', '  concurrency: 2', 'assets:'];
  for (const n of nodes) {
    yaml.push(`  - key: ${n.key}`, '    handler: command', '    config: {run: ["true"]}');
    if (n.deps.length) yaml.push(`    deps: [${n.deps.join(', ')}]`);
  }
  fs.writeFileSync(path.join(pipelines, 'dag.yaml'), yaml.join('\n') + '\n');

  const makefile = path.join(tmp, 'dag', 'Makefile');
  const target = (k) => k.replace('/', '_');
  const mk = [`.PHONY: all ${nodes.map((n) => target(n.key)).join(' ')}`, `all: ${nodes.map((n) => target(n.key)).join(' ')}`];
  for (const n of nodes) mk.push(`${target(n.key)}: ${n.deps.map(target).join(' ')}`, '\t@true');
  fs.writeFileSync(makefile, mk.join('\n') + '\n');

  const floor = path.join(tmp, 'dag', 'floor.mjs');
  fs.writeFileSync(
    floor,
    `import { execa } from ${JSON.stringify(path.join(root, 'node_modules', 'execa', 'index.js'))};
let next = 0;
async function worker() { while (next < ${STEPS}) { next++; await execa('true', [], { stdin: 'ignore' }); } }
await Promise.all([worker(), worker()]);
`,
  );

  const results = { runner: [], floor: [], make: [] };
  for (let r = 0; r < REPEAT; r++) {
    const home = path.join(tmp, 'dag', `home-${r}`);
    const out = fs.openSync(path.join(tmp, 'dag', `out-${r}.log`), 'w');
    // The definitions are loaded once before timing so the parse cache is warm, as it is for a user.
    if (r === 0) execFileSync(process.execPath, [runner, 'check', '-p', pipelines], { env: { ...process.env, RUNNER_HOME: home }, stdio: 'ignore' });
    const run = await timed(process.execPath, [runner, 'materialize', '-p', pipelines, '--select', '*', '--concurrency', '2', '--output', 'plain'], { env: { RUNNER_HOME: home }, stdout: out });
    fs.closeSync(out);
    if (run.code !== 0) throw new Error(`runner exited ${run.code}`);
    results.runner.push(run.ms);
    const f = await timed(process.execPath, [floor]);
    if (f.code !== 0) throw new Error('floor script failed');
    results.floor.push(f.ms);
    const m = await timed('make', ['-s', '-j2', '-f', makefile, 'all']);
    if (m.code !== 0) throw new Error('make failed');
    results.make.push(m.ms);
  }
  const runnerMs = median(results.runner);
  const floorMs = median(results.floor);
  const makeMs = median(results.make);
  // Node's own start-up is in both the runner's and the floor's time; a cold `runner` also loads its bundle.
  return {
    steps: STEPS,
    runner: runnerMs,
    floor: floorMs,
    make: makeMs,
    vsFloor: runnerMs / floorMs,
    vsMake: runnerMs / makeMs,
    perStep: { runner: runnerMs / STEPS, floor: floorMs / STEPS, make: makeMs / STEPS },
    all: results,
  };
}

/** Peak RSS (KB) of a process tree root, polled from /proc while it runs. */
function watchRss(pid) {
  let peak = 0;
  const t = setInterval(() => {
    try {
      const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const m = /VmHWM:\s+(\d+)/.exec(s);
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {}
  }, 20);
  return () => (clearInterval(t), peak);
}

async function benchBig() {
  const bytes = MB * 1024 * 1024;
  const pipelines = path.join(tmp, 'big', 'pipelines');
  fs.mkdirSync(pipelines, { recursive: true });
  const line = 'the quick brown fox jumps over the lazy dog 0123456789';
  const cmd = `yes '${line}' | head -c ${bytes}`;
  fs.writeFileSync(path.join(pipelines, 'big.yaml'), `assets:\n  - key: big/output\n    handler: command\n    config: {run: [sh, -c, "${cmd}"]}\n`);
  const home = path.join(tmp, 'big', 'home');
  const expected = createHash('sha256').update(execFileSync('sh', ['-c', cmd], { maxBuffer: bytes + 1024 })).digest('hex');

  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [runner, 'materialize', '-p', pipelines, '--select', '*', '--output', 'plain'], { env: { ...process.env, RUNNER_HOME: home }, stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = watchRss(child.pid);
  const code = await new Promise((r) => child.on('close', r));
  const peakKb = stop();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (code !== 0) throw new Error(`runner exited ${code}`);
  const logs = path.join(home, 'logs');
  const [runDir] = fs.readdirSync(logs);
  const logFile = path.join(logs, runDir, 'big__output.log');
  const size = fs.statSync(logFile).size;
  const got = await new Promise((resolve) => {
    const h = createHash('sha256');
    fs.createReadStream(logFile).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex')));
  });
  return { mb: MB, bytes, size, identical: got === expected, peakRssMb: peakKb / 1024, wall };
}

const report = {};
if (ONLY === 'all' || ONLY === 'dag') report.dag = await benchDag();
if (ONLY === 'all' || ONLY === 'big') report.big = await benchBig();
fs.rmSync(tmp, { recursive: true, force: true });

console.log('## materialize');
if (report.dag) {
  const d = report.dag;
  console.log(`\n${d.steps} \`command\` assets running \`true\`, concurrency 2, median of ${REPEAT} (${os.cpus().length} CPUs, Node ${process.version}):\n`);
  console.log('| | wall time | per step | runner ÷ this |');
  console.log('|---|---|---|---|');
  console.log(`| runner materialize --output plain > file | ${ms(d.runner)} | ${d.perStep.runner.toFixed(2)} ms | |`);
  console.log(`| (a) bare Node + execa, no graph/storage/output | ${ms(d.floor)} | ${d.perStep.floor.toFixed(2)} ms | ${d.vsFloor.toFixed(2)}x |`);
  console.log(`| (b) make -j2 on the same DAG | ${ms(d.make)} | ${d.perStep.make.toFixed(2)} ms | ${d.vsMake.toFixed(2)}x |`);
  console.log(`\nall runs (ms): runner ${d.all.runner.map((x) => x.toFixed(0)).join(', ')}; floor ${d.all.floor.map((x) => x.toFixed(0)).join(', ')}; make ${d.all.make.map((x) => x.toFixed(0)).join(', ')}`);
}
if (report.big) {
  const b = report.big;
  console.log(`\nOne asset printing ${b.mb} MB to stdout: peak RSS of the runner ${b.peakRssMb.toFixed(0)} MB (target ≤ 150), wall ${ms(b.wall)}; log file ${b.size} of ${b.bytes} bytes, ${b.identical ? 'identical to the output' : 'DIFFERENT from the output'}.`);
}
const failed = (report.dag && report.dag.vsFloor > 1.2) || (report.big && (!report.big.identical || report.big.peakRssMb > 150));
if (failed) console.log('\nmaterialize: a target was missed');
process.exitCode = failed ? 1 : 0;
