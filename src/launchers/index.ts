/**
 * Choosing an environment's launcher: `environments.<env>.kubernetes:` selects the
 * Kubernetes launcher; without it there is none and handlers run their local processes,
 * exactly as before. The Kubernetes client is loaded only when a step first needs it.
 */
import type { ResolvedEnvironment } from '../definitions/environment.js';
import type { KubernetesSettingsDef } from '../definitions/model.js';
import type { CommandSpec, LaunchContext, LaunchResult, Launcher } from './spec.js';
import type { KubernetesLauncherOptions } from './kubernetes/launcher.js';

const cache = new Map<string, { settings: string; launcher: Launcher }>();

/** The launcher of `env`'s steps, or undefined for local processes. One per environment and settings, reused. */
export function launcherFor(env: ResolvedEnvironment, o: KubernetesLauncherOptions = {}): Launcher | undefined {
  if (!env.kubernetes) return undefined;
  const settings = JSON.stringify(env.kubernetes);
  const hit = cache.get(env.name);
  if (hit && hit.settings === settings && !o.connect) return hit.launcher;
  const launcher = new LazyKubernetesLauncher(env as ResolvedEnvironment & { kubernetes: KubernetesSettingsDef }, o);
  if (!o.connect) cache.set(env.name, { settings, launcher });
  return launcher;
}

/** Loads the Kubernetes launcher (and @kubernetes/client-node) on the first step. */
class LazyKubernetesLauncher implements Launcher {
  readonly name = 'kubernetes';
  private real?: Promise<Launcher>;

  constructor(
    private readonly env: ResolvedEnvironment & { kubernetes: KubernetesSettingsDef },
    private readonly o: KubernetesLauncherOptions,
  ) {}

  async run(spec: CommandSpec, ctx: LaunchContext): Promise<LaunchResult> {
    this.real ??= import('./kubernetes/launcher.js').then((m) => new m.KubernetesLauncher(this.env, this.o));
    return (await this.real).run(spec, ctx);
  }
}

export type { CommandSpec, Launcher, LaunchContext, LaunchResult } from './spec.js';
