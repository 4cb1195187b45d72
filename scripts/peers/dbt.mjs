// Installs dbt (test/peers/versions.json `dbt`: dbt-core and dbt-duckdb, exactly those
// versions) into <cacheDir>/dbt-<core>-duckdb-<duckdb>: its own virtual environment, apart
// from the OpenMetadata CLIs (their dependency pins differ), made and filled by uv
// (scripts/lib/python-peers.mjs) with its download cache in <cacheDir>/uv. A venv is
// reused when its marker names the same packages; a half-made one (no marker) is rebuilt.
// The dbt artifacts the tests read are built from test/fixtures/dbt by the test itself.
import { existsSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { complete, ensureUv, markComplete, run, uvEnv } from '../lib/python-peers.mjs';

/** The peer's name (`node scripts/peers.mjs dbt` installs only this one). */
export const name = 'dbt';

/** The venv folder of the pinned dbt (the same rule as test/support/peers.ts `dbtBin`). */
export function venvDir(cacheDir, pins) {
  return path.join(cacheDir, `dbt-${pins.dbt['dbt-core']}-duckdb-${pins.dbt['dbt-duckdb']}`);
}

/** Installs the pinned dbt unless the cache already holds it complete. */
export async function install({ cacheDir, pins, log }) {
  const dir = venvDir(cacheDir, pins);
  const specs = Object.entries(pins.dbt).map(([p, v]) => `${p}==${v}`).sort();
  if (complete(dir, specs.join(' '))) {
    log(`reusing ${dir}`);
    return;
  }
  const uv = path.join(await ensureUv({ cacheDir, version: pins.uv, log }), 'uv');
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  log(`creating ${dir}; uv pip install ${specs.join(' ')}`);
  await run(uv, ['venv', '--quiet', '--python', 'python3', dir], uvEnv(cacheDir), log);
  await run(uv, ['pip', 'install', '--python', path.join(dir, 'bin', 'python'), ...specs], uvEnv(cacheDir), log);
  await run(path.join(dir, 'bin', 'dbt'), ['--version'], { DBT_SEND_ANONYMOUS_USAGE_STATS: 'false' }, () => undefined);
  markComplete(dir, specs.join(' '));
}
