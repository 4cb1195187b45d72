/**
 * The handlers the runner knows, by name. Adding a handler is one import and one entry
 * here; the core looks handlers up only through `getHandler`.
 */
import type { Handler } from './handler.js';
import { commandHandler } from './command/index.js';
import { openmetadataHandler } from './openmetadata/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler has its own config type
const HANDLERS: ReadonlyArray<Handler<any>> = [commandHandler, openmetadataHandler];

const byName = new Map(HANDLERS.map((h) => [h.name, h]));

/** The handler called `name`, or undefined. */
export function getHandler(name: string): Handler<any> | undefined {
  return byName.get(name);
}

/** Names of every handler, sorted. */
export function handlerNames(): string[] {
  return [...byName.keys()].sort();
}

/** Lets every handler remove what a killed runner left behind (see Handler.recover). */
export function recoverHandlers(): void {
  for (const h of HANDLERS) {
    try {
      h.recover?.();
    } catch {
      // Best effort: a leftover temp directory must not stop a run.
    }
  }
}
