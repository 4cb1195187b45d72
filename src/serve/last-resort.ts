/**
 * The last line of defence of `runner serve`: an error that escapes every handler of a
 * request (a throw in a stream callback, a rejected promise nobody awaited) must not end
 * the daemon, its schedules and the runs in progress. Each request runs in
 * {@link requestScope}; an uncaught error or unhandled rejection raised in that scope is
 * logged, its connection is closed, and serve goes on. One raised elsewhere is logged too:
 * serve keeps ticking, since dying would fail every run in progress.
 *
 * This is a net, not the fix: the router answers malformed requests with a 4xx itself.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type http from 'node:http';
import type { Logger } from './log.js';

/** The request an async context belongs to. */
export interface RequestScope {
  method: string;
  path: string;
  res: http.ServerResponse;
}

/** The request being handled in the current async context (set by serve's HTTP server). */
export const requestScope = new AsyncLocalStorage<RequestScope>();

/**
 * Installs process-wide `uncaughtException` and `unhandledRejection` handlers that log
 * and keep the process alive; returns a function that removes them. `onError` counts them
 * (a metric).
 */
export function installLastResort(log: Logger, onError: (where: 'request' | 'daemon') => void = () => undefined): () => void {
  const handle = (kind: string) => (err: unknown) => {
    const scope = requestScope.getStore();
    const error = describe(err);
    try {
      if (scope) {
        onError('request');
        log.error(`a request handler failed (${kind}); the request was dropped, serve goes on`, { method: scope.method, path: scope.path.slice(0, 200), error });
        if (!scope.res.destroyed) scope.res.destroy();
      } else {
        onError('daemon');
        log.error(`${kind} outside any request; serve goes on`, { error });
      }
    } catch {
      // Logging must not throw from here: that would end the process after all.
    }
  };
  const onException = handle('uncaught exception');
  const onRejection = handle('unhandled rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) return (err.stack ?? `${err.name}: ${err.message}`).split('\n').slice(0, 6).join('\n');
  return String(err);
}
