/**
 * A daemon lives for weeks and mostly waits: it keeps the two caches that grow under load
 * from growing, so that its memory stays flat. SQLite's page cache is held at 2 MB
 * (better-sqlite3's default is 16 MB); V8's young generation is kept at its start-up size
 * (V8 doubles it when a process allocates fast; the growth factor is read at each GC, so
 * it can be set here, unlike the maximum size, which V8 reads only at start-up).
 */
import v8 from 'node:v8';
import type { Store } from '../storage/store.js';

/** SQLite page cache of the daemon's connection, in KiB. */
const PAGE_CACHE_KIB = 2000;

/** Applies the daemon's memory settings to this process and its store connection. */
export function tuneForDaemon(store: Pick<Store, 'db'>): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  store.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
}
