/**
 * The handlers' checks before a run (`Handler.preflight`), once per handler of the plan.
 * A failed check fails the steps it guards without running them: the keys it names, or
 * every step of its handler when it names none.
 */
import type { CheckResult } from '../handlers/handler.js';
import { substituteDeep } from '../definitions/interpolate.js';
import { configScope } from './plan.js';
import type { ExecutorOptions } from './executor-options.js';
import { childEnvironment, deniedFor, stepEnvironment } from './step-env.js';

/** Per key, why its step cannot run (unmasked: the executor masks). */
export async function preflight(o: ExecutorOptions): Promise<Map<string, string>> {
  const failures = new Map<string, string>();
  const byHandler = new Map<string, string[]>();
  for (const { key, asset } of o.plan.steps) {
    const list = byHandler.get(asset.handler);
    if (list) list.push(key);
    else byHandler.set(asset.handler, [key]);
  }
  const processEnv = o.processEnv ?? process.env;
  const secret = async (name: string): Promise<string | undefined> => {
    if (!o.resolveSecrets) return undefined;
    try {
      return (await o.resolveSecrets([name], o.signal ?? new AbortController().signal))[name];
    } catch {
      return undefined;
    }
  };
  await Promise.all(
    [...byHandler].map(async ([name, keys]) => {
      const handler = o.handler(name);
      if (!handler?.preflight) return;
      // Variables substituted, secrets masked: a check asks for a secret by name when it needs one.
      const assets = keys.map((k) => {
        const asset = o.plan.byKey.get(k)!.asset;
        return { asset, config: substituteDeep(asset.config, configScope(o.env, processEnv, 'mask')).value };
      });
      let rows: CheckResult[];
      try {
        const childEnv = childEnvironment(processEnv, o.envPolicy);
        const stepEnv = stepEnvironment({ processEnv, inherit: [...(o.env.inheritEnv ?? []), ...(handler.inheritEnv ?? [])], denied: deniedFor(o.envPolicy, new Set()) });
        rows = await handler.preflight({ assets, env: o.env, projectDir: o.projectDir, secret, signal: o.signal, runId: o.runId, childEnv, stepEnv });
      } catch (err) {
        rows = [{ name: `${name} preflight`, ok: false, detail: err instanceof Error ? err.message : String(err) }];
      }
      for (const r of rows) {
        if (r.ok) continue;
        const why = `preflight check failed: ${r.name}${r.detail ? `: ${r.detail}` : ''}`;
        for (const key of r.keys ?? keys) if (!failures.has(key)) failures.set(key, why);
      }
    }),
  );
  return failures;
}
