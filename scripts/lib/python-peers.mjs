// What the Python peers of scripts/peers/ share: uv (installed with pip into its own venv in
// the peers cache: it resolves and installs the large dependency sets in seconds, and its
// download cache, <cacheDir>/uv, works where pip's HTTP cache keeps nothing because the
// index sends no caching headers), and running a command with its progress logged.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** The file written into a venv after a successful install. */
export const MARKER = '.runner-peer-complete';

/** Whether `dir` holds a finished install of exactly `what`. */
export function complete(dir, what) {
  const marker = path.join(dir, MARKER);
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === what;
}

/** Marks `dir` as a finished install of `what`. */
export function markComplete(dir, what) {
  writeFileSync(path.join(dir, MARKER), what + '\n');
}

/** uv at `version` in <cacheDir>/uv-<version>; returns the folder holding the `uv` executable. */
export async function ensureUv({ cacheDir, version, log }) {
  const dir = path.join(cacheDir, `uv-${version}`);
  if (complete(dir, `uv==${version}`)) return path.join(dir, 'bin');
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  log(`installing uv ${version} into ${dir}`);
  await run('python3', ['-m', 'venv', dir], {}, log);
  await run(path.join(dir, 'bin', 'pip'), ['install', '--quiet', `uv==${version}`], { PIP_CACHE_DIR: path.join(cacheDir, 'pip'), PIP_DISABLE_PIP_VERSION_CHECK: '1' }, log);
  markComplete(dir, `uv==${version}`);
  return path.join(dir, 'bin');
}

/** The environment that points uv at the shared download cache. */
export function uvEnv(cacheDir) {
  return { UV_CACHE_DIR: path.join(cacheDir, 'uv'), UV_NO_PROGRESS: '1' };
}

/**
 * Runs a command; resolves with its stdout, rejects with its last stderr lines. Stderr
 * lines go to `log`, but for uv's one line per installed package.
 */
export function run(cmd, args, env, log) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-8000);
      const lines = (partial + d).split('\n');
      partial = lines.pop();
      for (const l of lines) if (l.trim() && !/^\s*[+-] \S+==/.test(l)) log(l);
    });
    child.on('error', (err) => reject(new Error(`${cmd}: ${err.message}${err.code === 'ENOENT' && cmd === 'python3' ? ' (install Python 3.10+ with its venv module)' : ''}`)));
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${stderr}`))));
  });
}
