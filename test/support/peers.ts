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
