/** Options shared by many commands, and the one way a command loads definitions. */
import { Option, type Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../diagnostics/diagnostic.js';
import { checkDuration } from '../util/duration.js';
import type { Definitions } from '../definitions/model.js';
import type { Store } from '../storage/store.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import { MAX_ATTEMPTS } from '../definitions/model.js';
import { homeOf } from '../storage/home.js';

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

/** `-p, --pipelines DIR` (else RUNNER_PIPELINES, else `pipelines`, relative to the current directory). */
export function pipelinesOption(cmd: Command): Command {
  // An empty RUNNER_PIPELINES counts as unset (commander's .env() would take it as the directory).
  return cmd.option('-p, --pipelines <dir>', 'the pipelines directory (else RUNNER_PIPELINES, else pipelines in the current directory)', process.env.RUNNER_PIPELINES || 'pipelines');
}

/** The options of a command that runs steps (`materialize`, `retry`). */
export interface RunOptions extends PipelinesOptions, EnvOptions {
  concurrency?: number;
  failFast?: boolean;
  dryRun?: boolean;
  output?: 'tty' | 'plain' | 'json';
  /** `--retries N`: attempts of every step are N + 1 for this run. */
  retries?: number;
}

/** `--retries N`: a whole number from 0 to MAX_ATTEMPTS - 1. */
export function retriesCount(value: string): number {
  const max = MAX_ATTEMPTS - 1;
  if (!/^[0-9]+$/.test(value) || Number(value) > max) {
    throw new InputError(`--retries must be a whole number from 0 to ${max} (retries after the first attempt; retry.attempts is at most ${MAX_ATTEMPTS}), not \`${value}\``);
  }
  return Number(value);
}

/** The options shared by the commands that run steps: concurrency, fail-fast, retries, dry run, output. */
export function runOptions(cmd: Command): Command {
  cmd.option('-c, --concurrency <n>', `steps at once, 1 to ${MAX_CONCURRENCY} (default runner.concurrency of the pipeline files, else 4)`, positiveInt('--concurrency', MAX_CONCURRENCY));
  cmd.option('--fail-fast', 'start no new step after the first failure');
  cmd.option('--retries <n>', "retries of every step for this run, overriding each asset's retry.attempts (0: no retry, for debugging)", retriesCount);
  cmd.option('--dry-run', 'print the plan and what each step would run (secrets as ***); run and record nothing');
  cmd.addOption(choiceOption('-o, --output <mode>', 'tty (live tasks; the default on a terminal), plain (timestamped lines) or json (one event per line)', ['tty', 'plain', 'json']));
  return cmd;
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
  return homeOf(typeof defsOrProjectDir === 'string' ? defsOrProjectDir : defsOrProjectDir.projectDir);
}

/**
 * The message for a pipelines directory that does not exist, saying which directory a
 * relative one was looked for in and how to choose another; undefined when it exists.
 */
export function missingPipelinesDir(dir: string, env: Record<string, string | undefined> = process.env, cwd = process.cwd()): string | undefined {
  const abs = path.resolve(cwd, dir);
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) return undefined;
  const from = env.RUNNER_PIPELINES && env.RUNNER_PIPELINES === dir ? ' (from RUNNER_PIPELINES)' : '';
  const where = path.isAbsolute(dir) ? '' : ` in ${cwd} (the current directory)`;
  return `pipelines directory \`${dir}\`${from} does not exist${where}: pass -p DIR or set RUNNER_PIPELINES to use another`;
}

/** Loads the definitions or throws their diagnostics (exit 2). */
export async function loadOrExit(opts: PipelinesOptions): Promise<Definitions> {
  const missing = missingPipelinesDir(opts.pipelines);
  if (missing) throw new InputError(missing);
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
