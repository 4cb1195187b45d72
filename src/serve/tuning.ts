/**
 * A daemon lives for weeks and mostly waits: it keeps its SQLite page cache small
 * (better-sqlite3's default is 16 MB) so that its memory stays flat. V8's young
 * generation, the other cache that grows under load, can only be bounded from the command
 * line: `NODE_OPTIONS=--max-semi-space-size=1` (docs/serve.md, docs/benchmarks.md).
 */
import type { Store } from '../storage/store.js';

/** SQLite page cache of the daemon's connection, in KiB. */
const PAGE_CACHE_KIB = 2000;

/** Applies the daemon's memory settings to its store connection. */
export function tuneForDaemon(store: Pick<Store, 'db'>): void {
  store.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
}
