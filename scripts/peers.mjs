#!/usr/bin/env node
// Installs the real peers the tests drive (the OpenMetadata CLI, dbt, Dagster), at the
// versions pinned in test/peers/versions.json, into a cache that survives between runs
// on one machine: RUNNER_PEERS_CACHE, else $XDG_CACHE_HOME/runner-peers, else
// ~/.cache/runner-peers. Already-installed peers are reused (a warm run takes seconds).
//
// Each peer is a module of scripts/peers/ exporting `name` and
// `install({ cacheDir, pins, log })`; they run one after another (2 cores).
import { existsSync, readFileSync, readdirSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The cache folder of the real peers (the same rule as test/support/peers.ts). */
export function peersCacheDir(env = process.env) {
  if (env.RUNNER_PEERS_CACHE) return path.resolve(env.RUNNER_PEERS_CACHE);
  const base = env.XDG_CACHE_HOME || path.join(env.HOME || '/tmp', '.cache');
  return path.join(base, 'runner-peers');
}

async function main() {
  const pins = JSON.parse(readFileSync(path.join(root, 'test/peers/versions.json'), 'utf8'));
  const cacheDir = peersCacheDir();
  mkdirSync(cacheDir, { recursive: true });
  const only = process.argv.slice(2);
  const dir = path.join(root, 'scripts/peers');
  const modules = (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.endsWith('.mjs')).sort();
  const started = Date.now();
  for (const file of modules) {
    const peer = await import(pathToFileURL(path.join(root, 'scripts/peers', file)).href);
    if (only.length > 0 && !only.includes(peer.name)) continue;
    const t0 = Date.now();
    const log = (line) => process.stderr.write(`peers: ${peer.name}: ${line}\n`);
    await peer.install({ cacheDir, pins, log, root });
    log(`ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  process.stderr.write(`peers: all ready in ${((Date.now() - started) / 1000).toFixed(1)} s (cache ${cacheDir})\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`peers: ${err?.message ?? err}\n`);
    process.exit(1);
  });
}
