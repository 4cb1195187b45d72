/**
 * Where the real peers installed by `scripts/peers.mjs` live, for tests: the same cache
 * rule (RUNNER_PEERS_CACHE, else $XDG_CACHE_HOME/runner-peers, else ~/.cache/runner-peers)
 * and the pins of test/peers/versions.json.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The pins of test/peers/versions.json. */
export const PEER_PINS = JSON.parse(readFileSync(path.join(root, 'test/peers/versions.json'), 'utf8')) as {
  python: string;
  openmetadata: { team: string; newest: string };
  dbt: Record<string, string>;
  dagster: { team: string; newest: string };
};

/** The cache folder of the real peers. */
export function peersCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUNNER_PEERS_CACHE) return path.resolve(env.RUNNER_PEERS_CACHE);
  const base = env.XDG_CACHE_HOME || path.join(env.HOME || '/tmp', '.cache');
  return path.join(base, 'runner-peers');
}

/** One installed OpenMetadata CLI (scripts/peers/openmetadata.mjs writes the list). */
export interface InstalledCli {
  /** Its `metadata` executable. */
  metadata: string;
  /** The venv's Python. */
  python: string;
  dir: string;
  plugins: string[];
}

/**
 * The real OpenMetadata CLIs by version: both pins must be installed (`node scripts/peers.mjs`
 * does it, `npm test` runs it first); a missing one throws instead of skipping tests.
 */
export function openMetadataClis(env: NodeJS.ProcessEnv = process.env): Record<'team' | 'newest', InstalledCli & { version: string }> {
  const file = path.join(peersCacheDir(env), 'openmetadata.json');
  let list: Record<string, InstalledCli>;
  try {
    list = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new Error(`the real OpenMetadata CLIs are not installed (${file} missing): run \`node scripts/peers.mjs openmetadata\``);
  }
  const pick = (version: string) => {
    const cli = list[version];
    if (!cli) throw new Error(`openmetadata-ingestion ${version} is not installed (${file}): run \`node scripts/peers.mjs openmetadata\``);
    return { ...cli, version };
  };
  return { team: pick(PEER_PINS.openmetadata.team), newest: pick(PEER_PINS.openmetadata.newest) };
}

/** The `dbt` executable of the pinned dbt-core + dbt-duckdb venv (scripts/peers/dbt.mjs). */
export function dbtBin(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(peersCacheDir(env), `dbt-${PEER_PINS.dbt['dbt-core']}-duckdb-${PEER_PINS.dbt['dbt-duckdb']}`, 'bin', 'dbt');
}
