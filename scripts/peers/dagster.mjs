// Installs the pinned Dagster versions (test/peers/versions.json `dagster.team` and
// `dagster.newest`) into <cacheDir>/dagster-<version>: one virtual environment per version
// with dagster, dagster-webserver and dagster-graphql at exactly that version. pip's own
// cache is <cacheDir>/pip, shared with the other Python peers. A venv is reused when its
// marker file names the same packages; a half-made one (no marker) is removed and rebuilt.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** The peer's name (`node scripts/peers.mjs dagster` installs only this one). */
export const name = 'dagster';

/** The file written into a venv after a successful install. */
export const MARKER = '.runner-peer-complete';

/** The packages installed at each pinned version. */
export const PACKAGES = ['dagster', 'dagster-webserver', 'dagster-graphql'];

/** The venv folder of one Dagster version (the same rule as test/support/dagster/install.ts). */
export function venvDir(cacheDir, version) {
  return path.join(cacheDir, `dagster-${version}`);
}

/** Installs every pinned Dagster version that is not already complete in the cache. */
export async function install({ cacheDir, pins, log }) {
  const versions = [...new Set([pins.dagster.team, pins.dagster.newest])];
  for (const version of versions) await installOne({ cacheDir, version, log });
}

async function installOne({ cacheDir, version, log }) {
  const dir = venvDir(cacheDir, version);
  const specs = PACKAGES.map((p) => `${p}==${version}`);
  const marker = path.join(dir, MARKER);
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === specs.join(' ')) {
    log(`${version}: reusing ${dir}`);
    return;
  }
  // A venv is not relocatable (its scripts name their interpreter), so it is built in place;
  // a leftover without the marker is an interrupted install.
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  log(`${version}: creating ${dir}`);
  await run('python3', ['-m', 'venv', dir], {});
  const pip = path.join(dir, 'bin', 'pip');
  const env = { ...process.env, PIP_CACHE_DIR: path.join(cacheDir, 'pip'), PIP_DISABLE_PIP_VERSION_CHECK: '1' };
  log(`${version}: pip install ${specs.join(' ')} (minutes on a cold cache)`);
  await run(pip, ['install', '--quiet', ...specs], env);
  writeFileSync(marker, specs.join(' ') + '\n');
}

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-8000);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${stderr}`)),
    );
  });
}
