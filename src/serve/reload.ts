/**
 * Hot reload: watch the pipelines directory (recursively) and, after changes settle
 * (debounced), load it again. Valid definitions replace the ones in force; invalid ones
 * are reported with their `path:line:col` diagnostics and the last good definitions stay.
 */
import fs from 'node:fs';
import type { Definitions } from '../definitions/model.js';
import type { Diagnostic, Result } from '../diagnostics/diagnostic.js';

/** Options of the watcher. */
export interface WatchOptions {
  dir: string;
  /** Quiet time after the last change before reloading (default 300 ms). */
  debounceMs?: number;
  load: (dir: string) => Promise<Result<Definitions>>;
  onLoaded: (defs: Definitions) => void;
  onInvalid: (diagnostics: Diagnostic[]) => void;
  /** The watcher itself failed (e.g. the directory vanished); it retries. */
  onWatchError?: (err: Error) => void;
}

/** A running watcher. */
export interface DefinitionsWatcher {
  /** Reloads now (also what a change triggers after the debounce). */
  reload(): Promise<void>;
  close(): void;
}

const RELEVANT = /\.ya?ml$/i;

/** Starts watching. */
export function watchDefinitions(opts: WatchOptions): DefinitionsWatcher {
  const debounceMs = opts.debounceMs ?? 300;
  let timer: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let watcher: fs.FSWatcher | undefined;
  let closed = false;
  let loading: Promise<void> | undefined;
  let again = false;

  const reload = async (): Promise<void> => {
    // One load at a time; a change during a load triggers one more.
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        const r = await opts.load(opts.dir);
        if (closed) return;
        if (r.ok) opts.onLoaded(r.value);
        else opts.onInvalid(r.diagnostics);
      } while (again && !closed);
    })().finally(() => (loading = undefined));
    return loading;
  };

  const changed = (file: string | null): void => {
    // Editors write temp files and directories change too; a null name means "something".
    if (file !== null && !RELEVANT.test(file) && /\.[a-z0-9~]+$/i.test(file)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void reload();
    }, debounceMs);
  };

  const start = (): void => {
    if (closed) return;
    try {
      watcher = fs.watch(opts.dir, { recursive: true, persistent: true }, (_event, file) => changed(file === null ? null : String(file)));
      watcher.on('error', (err) => {
        opts.onWatchError?.(err);
        watcher?.close();
        watcher = undefined;
        retry = setTimeout(start, 5000);
      });
    } catch (err) {
      opts.onWatchError?.(err as Error);
      retry = setTimeout(start, 5000);
    }
  };
  start();

  return {
    reload,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (retry) clearTimeout(retry);
      watcher?.close();
    },
  };
}
