/** Options shared by many commands, and the one way a command loads definitions. */
import { Option, type Command } from 'commander';
import path from 'node:path';
import { InputError } from '../diagnostics/diagnostic.js';
import { checkDuration } from '../util/duration.js';
import type { Definitions } from '../definitions/model.js';
import type { Store } from '../storage/store.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';

export interface PipelinesOptions {
  pipelines: string;
}
export interface EnvOptions {
  env?: string;
}
/** Options of a command that can print JSON. */
export interface JsonOptions extends PipelinesOptions {
  json?: boolean;
}

/** `-p, --pipelines DIR` (default `pipelines`). */
export function pipelinesOption(cmd: Command): Command {
  return cmd.option('-p, --pipelines <dir>', 'the pipelines directory', process.env.RUNNER_PIPELINES ?? 'pipelines');
}

/** `--env NAME` (else RUNNER_ENV, else DAGSTER_ENV, else environments.default). */
export function envOption(cmd: Command): Command {
  return cmd.option('--env <name>', 'the environment (else RUNNER_ENV, else DAGSTER_ENV, else environments.default)');
}

/** `--json`. */
export function jsonOption(cmd: Command, what = 'print JSON'): Command {
  return cmd.option('--json', what);
}

/** An option restricted to a few values, checked by commander (exit 2 on a wrong one). */
export function choiceOption(flags: string, description: string, choices: string[], fallback?: string): Option {
  const o = new Option(flags, description).choices(choices);
  return fallback === undefined ? o : o.default(fallback);
}

/** The most steps at once: `runner.concurrency`'s maximum in schemas/pipeline.schema.json. */
export const MAX_CONCURRENCY = 1024;

/**
 * A parser of a whole-number option from 1 to `max` that reports bad values as input
 * errors (exit 2); without `max`, any number that is exact in JavaScript.
 */
export function positiveInt(name: string, max?: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    const limit = max ?? Number.MAX_SAFE_INTEGER;
    if (!/^[0-9]+$/.test(value) || n < 1 || n > limit) {
      throw new InputError(max === undefined ? `${name} must be a positive whole number, not \`${value}\`` : `${name} must be a whole number from 1 to ${max}, not \`${value}\``);
    }
    return n;
  };
}

/**
 * A parser of a duration option (`30s`, `2m`; a bare number is seconds) within the bounds
 * of the file format's durations, reporting bad values as input errors (exit 2).
 */
export function durationArg(name: string): (value: string) => number {
  return (value) => {
    const r = checkDuration(/^[0-9]+$/.test(value) ? `${value}s` : value);
    if (!r.ok) throw new InputError(`${name}: ${r.reason}`);
    return r.ms;
  };
}

/** RUNNER_HOME, default `.runner/` in the project (the pipelines directory's parent). */
export function runnerHome(defsOrProjectDir: Definitions | string): string {
  if (process.env.RUNNER_HOME) return path.resolve(process.env.RUNNER_HOME);
  const projectDir = typeof defsOrProjectDir === 'string' ? defsOrProjectDir : defsOrProjectDir.projectDir;
  return path.join(projectDir, '.runner');
}

/** Loads the definitions or throws their diagnostics (exit 2). */
export async function loadOrExit(opts: PipelinesOptions): Promise<Definitions> {
  const { loadDefinitions } = await import('../definitions/load.js');
  const r = await loadDefinitions(path.resolve(opts.pipelines));
  if (!r.ok) throw new InputError(r.diagnostics);
  return r.value;
}

/** Loads definitions and resolves the chosen environment, or throws (exit 2). */
export async function loadWithEnv(opts: PipelinesOptions & EnvOptions): Promise<{ defs: Definitions; env: ResolvedEnvironment }> {
  const defs = await loadOrExit(opts);
  const { resolveEnvironment } = await import('../definitions/environment.js');
  const r = resolveEnvironment(defs, opts.env);
  if (!r.ok) throw new InputError(r.diagnostics);
  return { defs, env: r.value };
}

/** Loads the definitions, opens the run store under RUNNER_HOME, runs `fn`, closes the store. */
export async function withStore<T>(opts: PipelinesOptions, fn: (defs: Definitions, store: Store) => T | Promise<T>): Promise<T> {
  const defs = await loadOrExit(opts);
  const { Store } = await import('../storage/store.js');
  const store = Store.open(runnerHome(defs));
  try {
    return await fn(defs, store);
  } finally {
    store.close();
  }
}
