/**
 * `runner check --online`: each secret resolvable (never printing a value), and each
 * handler's preflight for the assets that use it.
 */
import type { ResolvedEnvironment } from '../definitions/environment.js';
import type { Definitions } from '../definitions/model.js';
import type { CheckResult } from '../handlers/handler.js';

export async function onlineChecks(defs: Definitions, env: ResolvedEnvironment): Promise<CheckResult[]> {
  void defs;
  void env;
  return [];
}
