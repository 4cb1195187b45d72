/**
 * The `command` handler under a launcher (a Kubernetes Job): its program in the
 * environment's image. A value of `config.env` whose reference names a secret travels as a
 * secret (by reference in the pod); the others are plain variables.
 */
import path from 'node:path';
import type { RenderContext, RunContext, StepResult } from '../handler.js';
import type { CommandSpec } from '../../launchers/spec.js';
import type { CommandConfig } from './index.js';
import { secretsIn } from '../../definitions/interpolate.js';

/** The spec of a command step. */
export function commandSpec(ctx: RenderContext<CommandConfig>): CommandSpec {
  const { config, asset } = ctx;
  if (config.run.length === 0) throw new Error('config.run is empty');
  const raw = (asset.config.env ?? {}) as Record<string, unknown>;
  const env: Record<string, string> = {};
  const secretEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.env ?? {})) {
    if (secretsIn(raw[k]).size > 0) secretEnv[k] = v;
    else env[k] = v;
  }
  return { argv: [...config.run], env, secretEnv, files: [], ...(config.cwd && path.isAbsolute(config.cwd) ? { workingDir: config.cwd } : {}) };
}

/** Runs a command step with the context's launcher. */
export async function runCommandRemote(ctx: RunContext<CommandConfig>): Promise<StepResult> {
  let spec: CommandSpec;
  try {
    spec = commandSpec(ctx);
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  const r = await ctx.launcher!.run(spec, { runId: ctx.runId, asset: ctx.asset, attempt: ctx.attempt, signal: ctx.signal, log: ctx.log });
  return { ok: r.ok, exitCode: r.exitCode, ...(r.error !== undefined ? { error: ctx.mask(r.error) } : {}), ...(r.metadata ? { metadata: r.metadata } : {}), ...(r.handedOver ? { handedOver: true } : {}) };
}
