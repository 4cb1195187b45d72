// Benchmarks of loading definitions (docs/benchmarks.md, "Definitions"):
//  a. start-up: a cold `node bin/runner.js list -p pipelines` against `node -e 0`, ratio of
//     medians (target ≤ 3x);
//  b. `runner check` on a generated project of 10,000 `command` assets in 100 files
//     (bench/generate-project.mjs): cold, with a fresh RUNNER_HOME (no parse cache;
//     target ≤ 2 s and ≤ 300 MB peak RSS), and warm, nothing changed since the last check
//     (target ≤ 0.5 s);
//  c. `+X` selection on that graph, X the asset with the most ancestors: the whole
//     `runner list --select +X --json` (warm cache), and the evaluation alone, in process
//     (target ≤ 50 ms);
//  d. `runner check`, cold, on ONE file of 60,000 lean assets (about 6 MB:
//     `generate-project.mjs --lean`; target ≤ 5 s and ≤ 400 MB peak RSS).
// Needs `npm run build` (bench/run.mjs builds first). Options: --runs N (start-up runs,
// default 20), --repeat N (check runs, default 5), --assets N, --files N, --only a|b|c|d;
// BENCH_RUNNER=path runs another build of the CLI instead of bin/runner.js.
// Prints a markdown table (with CPU time as well as wall time: on a shared machine the wall
// time grows with the load, see the load average it prints); exits 1 when a target is missed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateProject } from './generate-project.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const runner = process.env.BENCH_RUNNER ?? path.join(root, 'bin', 'runner.js');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(opt('runs', 20));
const REPEAT = Number(opt('repeat', 5));
const ASSETS = Number(opt('assets', 10_000));
const FILES = Number(opt('files', 100));
const ONLY = opt('only', 'all');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-bench-defs-'));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtMs = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 1 : 0)} ms`);
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Runs `node ...argv`; resolves with wall time (ms), peak RSS (KB, when measurable) and exit code. */
function run(argv, { env = {}, cwd = root } = {}) {
  return new Promise((resolve, reject) => {
    const rssFile = path.join(tmp, `rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const [file, fullArgv] = TIME ? [TIME, ['-f', '%M %U %S', '-o', rssFile, process.execPath, ...argv]] : [process.execPath, argv];
    const t0 = performance.now();
    const child = spawn(file, fullArgv, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let peak = 0;
    let cpuMs;
    // Without /usr/bin/time, poll /proc for the peak (VmHWM) while it runs.
    const poll = TIME ? undefined : setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]));
      } catch {}
    }, 5);
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (poll) clearInterval(poll);
      if (TIME) {
        try {
          const [rss, user, sys] = fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
          peak = rss;
          cpuMs = (user + sys) * 1000;
          fs.rmSync(rssFile, { force: true });
        } catch {}
      }
      resolve({ ms, rssKb: peak, cpuMs, code, stderr });
    });
  });
}

function mustSucceed(r, what) {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stderr}`);
}

const rows = [];
let missed = 0;
function row(what, value, target, pass) {
  if (pass === false) missed++;
  rows.push(`| ${what} | ${value} | ${target} | ${pass === undefined ? '' : pass ? 'yes' : '**no**'} |`);
}

async function startup() {
  const home = path.join(tmp, 'home-startup');
  const pipelines = path.join(root, 'pipelines');
  const floor = [];
  const list = [];
  const listNoCache = [];
  mustSucceed(await run([runner, 'list', '-p', pipelines], { env: { RUNNER_HOME: home } }), 'runner list -p pipelines');
  // Interleaved, so that a busy moment of the machine hits all three alike.
  for (let i = 0; i < RUNS; i++) {
    floor.push((await run(['-e', '0'])).ms);
    const r = await run([runner, 'list', '-p', pipelines], { env: { RUNNER_HOME: home } });
    mustSucceed(r, 'runner list');
    list.push(r.ms);
    listNoCache.push((await run([runner, 'list', '-p', pipelines], { env: { RUNNER_HOME: home, RUNNER_NO_CACHE: '1' } })).ms);
  }
  const ratio = median(list) / median(floor);
  row(`\`node -e 0\` (median of ${RUNS})`, fmtMs(median(floor)), '', undefined);
  row(`\`node bin/runner.js list -p pipelines\` (median of ${RUNS})`, `${fmtMs(median(list))} = **${ratio.toFixed(2)}x** \`node -e 0\``, '≤ 3x', ratio <= 3);
  row('the same without the parse cache (`RUNNER_NO_CACHE=1`)', `${fmtMs(median(listNoCache))} = ${(median(listNoCache) / median(floor)).toFixed(2)}x`, '', undefined);
}

let project;
function generated() {
  project ??= generateProject(path.join(tmp, 'generated'), { assets: ASSETS, files: FILES });
  return project;
}

async function check() {
  const p = generated();
  const what = `${p.assets.toLocaleString('en')} assets, ${p.edges.toLocaleString('en')} deps, ${p.files} files, ${(p.bytes / 1e6).toFixed(1)} MB`;
  const cold = [];
  for (let i = 0; i < REPEAT; i++) {
    const home = path.join(tmp, `home-cold-${i}`);
    const r = await run([runner, 'check', '-p', p.pipelines], { env: { RUNNER_HOME: home } });
    mustSucceed(r, 'runner check (cold)');
    cold.push(r);
  }
  const home = path.join(tmp, 'home-warm');
  mustSucceed(await run([runner, 'check', '-p', p.pipelines], { env: { RUNNER_HOME: home } }), 'runner check (filling the cache)');
  const warm = [];
  for (let i = 0; i < REPEAT; i++) {
    const r = await run([runner, 'check', '-p', p.pipelines], { env: { RUNNER_HOME: home } });
    mustSucceed(r, 'runner check (warm)');
    warm.push(r);
  }
  const coldMs = median(cold.map((r) => r.ms));
  const coldRss = Math.max(...cold.map((r) => r.rssKb)) / 1024;
  const warmMs = median(warm.map((r) => r.ms));
  const warmRss = Math.max(...warm.map((r) => r.rssKb)) / 1024;
  const cpu = (rs) => (rs.every((r) => r.cpuMs !== undefined) ? `, CPU (user + sys) ${fmtMs(median(rs.map((r) => r.cpuMs)))}` : '');
  row(`\`runner check\`, ${what}: cold, fresh RUNNER_HOME (median of ${REPEAT})`, `${fmtMs(coldMs)}${cpu(cold)}`, '≤ 2 s', coldMs <= 2000);
  row('… its peak RSS (largest of the runs)', `${coldRss.toFixed(0)} MB`, '≤ 300 MB', coldRss <= 300);
  row(`… warm: nothing changed since the last check (median of ${REPEAT})`, `${fmtMs(warmMs)}${cpu(warm)}, peak RSS ${warmRss.toFixed(0)} MB`, '≤ 0.5 s', warmMs <= 500);
}

/** The loader and the selection module, bundled from src/ for in-process timing. */
async function modules() {
  const esbuild = await import('esbuild');
  const outfile = path.join(root, 'node_modules', '.cache', 'runner-bench', `definitions-${process.pid}.mjs`);
  await esbuild.build({
    stdin: {
      contents: [
        "export { loadDefinitionsSync } from './src/definitions/load.ts';",
        "export { select, parseSelection, evaluateSelection } from './src/selection/index.ts';",
        "export { selectionContext } from './src/cli/selection.ts';",
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3'],
    banner: { js: "import { createRequire as __runnerCreateRequire } from 'node:module'; const require = __runnerCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    fs.rmSync(outfile, { force: true });
  }
}

async function selection() {
  const p = generated();
  const expr = `+${p.deepest}`;
  const home = path.join(tmp, 'home-select');
  mustSucceed(await run([runner, 'check', '-p', p.pipelines], { env: { RUNNER_HOME: home } }), 'runner check (filling the cache)');
  const cli = [];
  const all = [];
  for (let i = 0; i < REPEAT; i++) {
    const r = await run([runner, 'list', '-p', p.pipelines, '--select', expr, '--json'], { env: { RUNNER_HOME: home } });
    mustSucceed(r, 'runner list --select');
    cli.push(r.ms);
    all.push((await run([runner, 'list', '-p', p.pipelines, '--json'], { env: { RUNNER_HOME: home } })).ms);
  }
  const m = await modules();
  // The first call on freshly loaded definitions pays for the graph's topological order
  // (computed once, lazily); the very first also for the JIT. Median of 5 fresh loads.
  const firsts = [];
  let ctx;
  let first;
  let t0;
  for (let i = 0; i < 5; i++) {
    const loaded = m.loadDefinitionsSync(p.pipelines, { cacheDir: path.join(home, 'cache') });
    if (!loaded.ok) throw new Error('the generated project did not load');
    ctx = m.selectionContext(loaded.value.defs);
    t0 = performance.now();
    first = m.select(expr, ctx);
    firsts.push(performance.now() - t0);
  }
  const firstMs = median(firsts);
  if (!first.ok || first.value.length !== p.deepestAncestors + 1) throw new Error(`${expr} selected ${first.ok ? first.value.length : 'nothing'}, expected ${p.deepestAncestors + 1}`);
  const full = [];
  const evalOnly = [];
  for (let i = 0; i < 50; i++) {
    t0 = performance.now();
    m.select(expr, ctx);
    full.push(performance.now() - t0);
    t0 = performance.now();
    const ast = m.parseSelection(expr);
    m.evaluateSelection(ast.value, ctx, expr);
    evalOnly.push(performance.now() - t0);
  }
  // The widest case: every asset, and all ancestors and descendants of X.
  t0 = performance.now();
  const wide = m.select(`+${p.deepest}+ or *`, ctx);
  const wideMs = performance.now() - t0;
  row(`\`${expr}\` (${first.value.length} assets) in process, parse + evaluate + order: first call after a load (median of 5; the very first ${fmtMs(firsts[0])})`, fmtMs(firstMs), '≤ 50 ms', firstMs <= 50);
  row('… then (median of 50): parse + evaluate + order / parse + evaluate only', `${fmtMs(median(full))} / ${fmtMs(median(evalOnly))}`, '≤ 50 ms', median(full) <= 50);
  row(`\`+X+ or *\` (${wide.ok ? wide.value.length : 0} assets), in process`, fmtMs(wideMs), '', undefined);
  row(`\`runner list --select '${expr}' --json\`, warm cache (median of ${REPEAT})`, `${fmtMs(median(cli))} (without --select: ${fmtMs(median(all))})`, '', undefined);
}

async function bigFile() {
  const p = generateProject(path.join(tmp, 'big-file'), { assets: 60_000, files: 1, lean: true });
  const what = `one file of ${p.assets.toLocaleString('en')} assets, ${(p.bytes / 1e6).toFixed(1)} MB`;
  const cold = [];
  for (let i = 0; i < Math.min(REPEAT, 3); i++) {
    const r = await run([runner, 'check', '-p', p.pipelines], { env: { RUNNER_HOME: path.join(tmp, `home-big-${i}`) } });
    mustSucceed(r, 'runner check (one big file)');
    cold.push(r);
  }
  const ms = median(cold.map((r) => r.ms));
  const rss = Math.max(...cold.map((r) => r.rssKb)) / 1024;
  const cpu = cold.every((r) => r.cpuMs !== undefined) ? `, CPU (user + sys) ${fmtMs(median(cold.map((r) => r.cpuMs)))}` : '';
  row(`\`runner check\`, ${what}: cold (median of ${cold.length})`, `${fmtMs(ms)}${cpu}`, '≤ 5 s', ms <= 5000);
  row('… its peak RSS (largest of the runs)', `${rss.toFixed(0)} MB`, '≤ 400 MB', rss <= 400);
}

try {
  if (ONLY === 'all' || ONLY === 'a') await startup();
  if (ONLY === 'all' || ONLY === 'b') await check();
  if (ONLY === 'all' || ONLY === 'c') await selection();
  if (ONLY === 'all' || ONLY === 'd') await bigFile();
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

console.log(`Definitions: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
console.log('| measurement | result | target | met |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(r);
if (missed > 0) console.log(`\n${missed} target(s) missed`);
process.exitCode = missed > 0 ? 1 : 0;

