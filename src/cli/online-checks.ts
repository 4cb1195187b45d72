/**
 * `runner check --online`: each secret resolvable (never printing a value), and each
 * handler's preflight (CLI found, server reachable, versions, token accepted, input files)
 * for the assets that use it in the chosen environment; with `kubernetes:`, the cluster
 * and the runner's permissions in its namespace.
 */
import type { ResolvedEnvironment } from '../definitions/environment.js';
import { substituteDeep } from '../definitions/interpolate.js';
import type { Definitions } from '../definitions/model.js';
import type { CheckResult } from '../handlers/handler.js';
import { getHandler } from '../handlers/registry.js';
import { childEnvironment, deniedFor, envPolicy, stepEnvironment } from '../execution/step-env.js';
import { SecretResolver, checkSecrets, vaultSessionFor } from '../secrets/index.js';

export async function onlineChecks(defs: Definitions, env: ResolvedEnvironment, processEnv: Record<string, string | undefined> = process.env): Promise<CheckResult[]> {
  const vault = vaultSessionFor(env, processEnv);
  const rows = await checkSecrets(defs, env, { processEnv, vault });
  const resolver = new SecretResolver({ secrets: defs.secrets, env, processEnv, vault });
  const secret = async (name: string) => {
    const r = (await resolver.resolve([name])).get(name);
    return r && r.ok ? resolver.value(name) : undefined;
  };
  const byHandler = new Map<string, Array<{ asset: (typeof defs.assets extends Map<string, infer A> ? A : never); config: unknown }>>();
  for (const a of defs.assets.values()) {
    // Variables substituted, secrets masked: preflight needs paths and URLs, never secret values in configs.
    const config = substituteDeep(a.config, { env: processEnv, vars: env.vars, secrets: 'mask' }).value;
    const list = byHandler.get(a.handler) ?? byHandler.set(a.handler, []).get(a.handler)!;
    list.push({ asset: a, config });
  }
  for (const [name, assets] of byHandler) {
    const handler = getHandler(name);
    if (!handler?.preflight) continue;
    try {
      const policy = envPolicy(defs);
      const childEnv = childEnvironment(processEnv, policy);
      const stepEnv = stepEnvironment({ processEnv, inherit: [...(env.inheritEnv ?? []), ...(handler.inheritEnv ?? [])], denied: deniedFor(policy, new Set()) });
      rows.push(...(await handler.preflight({ assets, env, projectDir: defs.projectDir, secret, childEnv, stepEnv })));
    } catch (err) {
      rows.push({ name: `${name} preflight`, ok: false, detail: resolver.masker.mask((err as Error).message) });
    }
  }
  if (env.kubernetes) {
    const { kubernetesChecks } = await import('../launchers/kubernetes/checks.js');
    rows.push(...(await kubernetesChecks(env.kubernetes, processEnv)));
  }
  return rows.map((r) => ({ ...r, detail: r.detail === undefined ? undefined : resolver.masker.mask(r.detail) }));
}
