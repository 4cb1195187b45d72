/**
 * The argv that runs the `metadata` CLI for one step, as a command (`[metadata]`,
 * `[uv, run, metadata]`, a virtualenv's binary) or in a container. The JWT never appears in
 * argv: the container gets `-e RUNNER_OPENMETADATA_JWT` (a name only; the value is in the
 * engine process's own environment) and the workflow file references the variable.
 */
import path from 'node:path';
import type { OmSettings } from './settings.js';
import { JWT_ENV } from './render.js';
import { WORKFLOW_FILE } from './workdir.js';

/** Where the workflow directory is mounted in a container. */
export const CONTAINER_CONFIG_DIR = '/config';

/** What to run. */
export interface Invocation {
  /** The full argv (argv[0] is the program). */
  argv: string[];
  /** Variables added to the child's environment (the caller adds the JWT under {@link JWT_ENV}). */
  env: Record<string, string>;
  /** The container's name, when the CLI runs in one (to stop it on abort). */
  container?: { engine: string; name: string };
}

/** Options of {@link buildInvocation}. */
export interface InvocationOptions {
  /** The step's private directory holding the workflow file. */
  workdir: string;
  /** The `metadata` sub-command. */
  subcommand: string;
  /** Host paths the CLI reads (dbt artifacts, query log files): mounted read-only at the same path in a container. */
  readPaths?: string[];
  /** Unique suffix of the container name (e.g. run id and attempt). */
  nameSuffix?: string;
  /** The server URL (a loopback URL makes the container share the host's network). */
  url?: string;
  /** The runner's uid:gid (the container reads the 0600 file as this user). */
  user?: string;
}

/** The argv for a step (the settings' CLI must be a command or an image). */
export function buildInvocation(settings: OmSettings, o: InvocationOptions): Invocation {
  const r = settings.runner;
  // An installed CLI is resolved to its command first (cli-tool.ts): nothing to run yet.
  if (r.kind === 'install') throw new Error('the OpenMetadata CLI to install was not resolved to its executable');
  if (r.kind === 'command') {
    return { argv: [...r.argv, o.subcommand, '-c', path.join(o.workdir, WORKFLOW_FILE)], env: {} };
  }
  const name = `runner-om-${(o.nameSuffix ?? String(process.pid)).replace(/[^A-Za-z0-9_.-]/g, '-')}`.slice(0, 120);
  const argv = [r.engine, 'run', '--rm', '--name', name];
  const user = o.user ?? currentUser();
  if (user) argv.push('--user', user, '-e', 'HOME=/tmp');
  if (o.url && isLoopback(o.url)) argv.push('--network', 'host');
  argv.push('-v', `${o.workdir}:${CONTAINER_CONFIG_DIR}:ro`);
  const dirs = [...new Set((o.readPaths ?? []).filter((p) => path.isAbsolute(p)).map((p) => path.dirname(p)))].sort();
  for (const d of dirs) argv.push('-v', `${d}:${d}:ro`);
  argv.push('-e', 'PYTHONUNBUFFERED=1', '-e', JWT_ENV, r.image, 'metadata', o.subcommand, '-c', `${CONTAINER_CONFIG_DIR}/${WORKFLOW_FILE}`);
  return { argv, env: {}, container: { engine: r.engine, name } };
}

/** The argv that asks the CLI for its version (`metadata --version`), for a command CLI. */
export function versionArgv(settings: OmSettings): string[] | undefined {
  return settings.runner.kind === 'command' ? [...settings.runner.argv, '--version'] : undefined;
}

/** The version an image tag names (`openmetadata/ingestion:1.10.4` → `1.10.4`). */
export function imageVersion(image: string): string | undefined {
  const tag = image.includes('@') ? undefined : image.slice(image.lastIndexOf(':') + 1);
  const m = tag && !tag.includes('/') ? /^v?(\d+\.\d+\.\d+)/.exec(tag) : null;
  return m ? m[1] : undefined;
}

function isLoopback(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === 'localhost' || h === '::1' || h === '[::1]' || h.startsWith('127.');
  } catch {
    return false;
  }
}

function currentUser(): string | undefined {
  return typeof process.getuid === 'function' && typeof process.getgid === 'function' ? `${process.getuid()}:${process.getgid()}` : undefined;
}
