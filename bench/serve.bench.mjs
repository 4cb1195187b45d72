// Benchmarks of `runner serve` (docs/benchmarks.md, "serve"):
//  1. Idle CPU: the built CLI's `runner serve` with both schedules of the reference system
//     started (daily 02:00 and every 4 h, so no tick falls in the window), over 60 s, from
//     /proc/<pid>/stat utime+stime. Target: under 1% of one core.
//  2. Memory over 10,000 simulated ticks: the scheduler (claims in the store, overlap
//     checks), the executor with a no-op handler, the run store and the metrics, driven by
//     a fake clock through a schedule that ticks every second. RSS after a GC at tick 1,000
//     and at tick 10,000, twice: with serve's own settings (src/serve/tuning.ts: SQLite's
//     page cache at 2 MB, V8's young generation kept at its start-up size), and with the
//     young generation also capped by --max-semi-space-size=1. Target: growth under 5 MB
//     with serve's own settings.
// Needs `npm run build` (bench/run.mjs builds first). Options: --seconds N (idle window),
// --ticks N, --only idle|ticks.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const runner = path.join(root, 'bin', 'runner.js');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const SECONDS = Number(opt('seconds', 60));
const TICKS = Number(opt('ticks', 10_000));
const ONLY = opt('only', 'all');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-bench-serve-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const PIPELINE = `assets:
  - key: openmetadata/trino/metadata
    group: openmetadata
    handler: command
    config: {run: ["true"]}
  - key: openmetadata/dbt/metadata
    group: openmetadata
    handler: command
    config: {run: ["true"]}
jobs:
  - name: openmetadata_ingestion
    select: "group:openmetadata"
  - name: critical_metadata_ingestion
    select: openmetadata/trino/metadata or openmetadata/dbt/metadata
schedules:
  - name: metadata_ingestion_schedule
    cron: "0 2 * * *"
    job: openmetadata_ingestion
  - name: critical_metadata_schedule
    cron: "0 */4 * * *"
    job: critical_metadata_ingestion
`;

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  // Fields 14 and 15 (utime, stime) are f[11] and f[12] after the command name.
  return (Number(f[11]) + Number(f[12])) / ticks;
}

function rssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

async function benchIdle() {
  const project = path.join(tmp, 'idle');
  fs.mkdirSync(path.join(project, 'pipelines'), { recursive: true });
  fs.writeFileSync(path.join(project, 'pipelines', 'main.yaml'), PIPELINE);
  const env = { ...process.env, RUNNER_HOME: path.join(project, 'home') };
  for (const s of ['metadata_ingestion_schedule', 'critical_metadata_schedule']) {
    const r = spawnSync(process.execPath, [runner, 'schedule', 'start', s], { cwd: project, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`schedule start failed: ${r.stderr}`);
  }
  const child = spawn(process.execPath, [runner, 'serve', '--port', '0'], { cwd: project, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  const t0 = Date.now();
  while (!/serving on (http:\/\/\S+)/.test(out)) {
    if (Date.now() - t0 > 20_000) throw new Error(`serve did not start:\n${out}`);
    await sleep(50);
  }
  const url = /serving on (http:\/\/\S+)/.exec(out)[1];
  // Let start-up work (imports, first wake-ups, retention pass) finish.
  await sleep(3000);
  const cpu0 = cpuSeconds(child.pid);
  const w0 = process.hrtime.bigint();
  await sleep(SECONDS * 1000);
  const cpu1 = cpuSeconds(child.pid);
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  const rss = rssMb(child.pid);
  const health = await fetch(`${url}/healthz`).then((r) => r.status);
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', r));
  const running = (out.match(/schedule running/g) ?? []).length;
  return { pct: ((cpu1 - cpu0) / wall) * 100, cpu: cpu1 - cpu0, wall, rss, health, code, running };
}

// The simulated ticks run in a bundle of this driver (TypeScript sources, no build step).
const DRIVER = `
import { Store } from './src/storage/store.js';
import { Scheduler } from './src/schedule/scheduler.js';
import { ServeMetrics } from './src/serve/serve-metrics.js';
import { silentLogger } from './src/serve/log.js';
import { buildPlan } from './src/execution/plan.js';
import { execute } from './src/execution/executor.js';
import { loadDefinitions } from './src/definitions/load.js';
import { resolveEnvironment } from './src/definitions/environment.js';
import { tuneForDaemon } from './src/serve/tuning.js';

const [dir, home, total] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const r = await loadDefinitions(dir, { cacheDir: false });
if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
const defs = r.value;
const env = resolveEnvironment(defs, undefined);
if (!env.ok) throw new Error('env');
const store = Store.open(home);
tuneForDaemon(store); // as runner serve does
const noop = { name: 'command', run: async () => ({ ok: true, metadata: { records: 1 } }) };
const clock = { t: new Date('2024-01-01T00:00:00.500Z') };
let metrics;
const scheduler = new Scheduler({
  db: store.db,
  log: silentLogger,
  now: () => clock.t,
  observer: { tick: (schedule, outcome) => metrics.ticks.inc({ schedule, outcome }) },
  launch: async (req) => {
    const plan = buildPlan(['bench/a', 'bench/b'], defs.assets, defs.graph);
    store.createRun({ id: req.runId, trigger: { type: 'schedule', schedule: req.schedule.name, tick: req.tickTime.toISOString() }, env: 'default', selection: 'bench/*', keys: plan.steps.map((s) => s.key), pipelinesDir: dir });
    const sink = { emit: (e) => store.emit(e), close: () => store.flush() };
    const outcome = await execute({ runId: req.runId, plan, env: env.value, projectDir: defs.projectDir, handler: () => noop, sink, concurrency: 2, slots: store, processes: store });
    await sink.close();
    for (const s of outcome.steps) metrics.stepDuration.observe({ asset: s.key, status: s.status }, (s.endedAt - s.startedAt) / 1000);
    metrics.runsFinished.inc({ schedule: req.schedule.name, status: outcome.status });
    return { status: outcome.status };
  },
});
metrics = new ServeMetrics({ db: () => store.db, defs: () => defs, statuses: () => scheduler.scheduleStatuses(), lastWake: () => scheduler.lastWakeAt, activeRuns: () => scheduler.activeRuns().length, now: () => clock.t });
scheduler.setDefinitions(defs);
const settle = async () => { while (scheduler.activeRuns().length > 0) await Promise.all(scheduler.activeRuns().map((a) => a.done)); };
const rss = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage.rss() / 1048576; };
scheduler.wake();
const marks = {};
for (let i = 1; i <= total; i++) {
  clock.t = new Date(clock.t.getTime() + 1000);
  scheduler.wake();
  await settle();
  if (i % 100 === 0) metrics.render();
  if (i === 1000 || i === total / 2 || i === total) marks[i] = rss();
  // BENCH_TRACE=1: RSS and JS heap every 500 ticks, on stderr.
  if (process.env.BENCH_TRACE && i % 500 === 0) console.error(i, rss().toFixed(1), (process.memoryUsage().heapUsed / 1048576).toFixed(1));
}
globalThis.gc();
const heap = process.memoryUsage().heapUsed / 1048576;
const runs = store.db.prepare('SELECT COUNT(*) AS n FROM runs').get().n;
const ticks = store.db.prepare("SELECT COUNT(*) AS n FROM ticks WHERE outcome = 'started'").get().n;
store.close();
console.log(JSON.stringify({ marks, heap, runs, ticks }));
`;

async function benchTicks() {
  const project = path.join(tmp, 'ticks');
  fs.mkdirSync(path.join(project, 'pipelines'), { recursive: true });
  fs.writeFileSync(
    path.join(project, 'pipelines', 'main.yaml'),
    `assets:
  - key: bench/a
    handler: command
    config: {run: ["true"]}
  - key: bench/b
    deps: [bench/a]
    handler: command
    config: {run: ["true"]}
schedules:
  - name: every_second
    cron: "* * * * * *"
    select: "bench/*"
    default_status: running
`,
  );
  const outfile = path.join(root, 'node_modules', '.cache', 'runner-bench', `serve-ticks-${process.pid}.mjs`);
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  await esbuild.build({
    stdin: { contents: DRIVER, resolveDir: root, loader: 'ts', sourcefile: 'serve-ticks.ts' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  const drive = (small) =>
    new Promise((resolve, reject) => {
      const t0 = Date.now();
      const home = path.join(project, small ? 'home-small' : 'home');
      const flags = ['--expose-gc', ...(small ? ['--max-semi-space-size=1'] : [])];
      const child = spawn(process.execPath, [...flags, outfile, path.join(project, 'pipelines'), home, String(TICKS)], {
        env: { ...process.env, ...(small ? { BENCH_SMALL_CACHES: '1' } : {}) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
      child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
      child.on('exit', (code) => {
        if (process.env.BENCH_TRACE) process.stderr.write(err);
        if (code !== 0) return reject(new Error(`tick driver failed:\n${err}`));
        resolve({ ...JSON.parse(out.trim().split('\n').at(-1)), seconds: (Date.now() - t0) / 1000 });
      });
    });
  try {
    // Memory does not depend on CPU: both at once.
    const [plain, small] = await Promise.all([drive(false), drive(true)]);
    return { plain, small };
  } finally {
    fs.rmSync(outfile, { force: true });
  }
}

let failed = false;
console.log('## serve');
try {
  if (ONLY === 'all' || ONLY === 'idle') {
    const i = await benchIdle();
    const ok = i.pct < 1 && i.code === 0 && i.health === 200;
    failed ||= !ok;
    console.log(
      `\nIdle CPU of \`runner serve\` with both schedules started (${i.running} running), over ${i.wall.toFixed(1)} s: ` +
        `${i.cpu.toFixed(2)} s of CPU = **${i.pct.toFixed(2)}% of one core** (target < 1%${ok ? ', met' : ', MISSED'}); ` +
        `RSS ${i.rss.toFixed(0)} MB; /healthz ${i.health}; exit on SIGTERM ${i.code} (${os.cpus().length} CPUs, Node ${process.version}).`,
    );
  }
  if (ONLY === 'all' || ONLY === 'ticks') {
    const { plain, small } = await benchTicks();
    const growth = (t) => t.marks[TICKS] - t.marks[1000];
    const mb = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} MB`;
    const ok = growth(plain) < 5 && [plain, small].every((t) => t.runs === TICKS && t.ticks === TICKS);
    failed ||= !ok;
    console.log(
      `\n${TICKS.toLocaleString('en')} simulated ticks (fake clock; each starts one run of 2 no-op steps through the executor and the store; /metrics rendered every 100 ticks; ${plain.seconds.toFixed(0)} s), RSS after GC at tick 1,000 → tick ${TICKS.toLocaleString('en')}:\n`,
    );
    const half = TICKS / 2;
    const row = (t) => `${t.marks[1000].toFixed(1)} MB | ${t.marks[half].toFixed(1)} MB | ${t.marks[TICKS].toFixed(1)} MB`;
    console.log(`| | tick 1,000 | tick ${half.toLocaleString('en')} | tick ${TICKS.toLocaleString('en')} | growth 1,000 → ${TICKS.toLocaleString('en')} | JS heap at the end |`);
    console.log('|---|---|---|---|---|---|');
    console.log(`| runner serve's own settings (\`tuneForDaemon\`: SQLite cache 2 MB, young generation not grown) | ${row(plain)} | **${mb(growth(plain))}** (target < 5 MB${ok ? ', met' : ', MISSED'}) | ${plain.heap.toFixed(1)} MB |`);
    console.log(`| the same plus \`--max-semi-space-size=1\` (young generation held at 1 MB) | ${row(small)} | ${mb(growth(small))} | ${small.heap.toFixed(1)} MB |`);
    console.log(`\n${small.runs} runs recorded and ${small.ticks} ticks started in each.`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
if (failed) console.log('\nserve: a target was missed');
process.exitCode = failed ? 1 : 0;
