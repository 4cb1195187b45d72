/**
 * Running an installer's command (venv, pip, uv): argv through execa, no shell, its own
 * process group (the whole tree goes on abort), every output line passed on as progress
 * with credentials in URLs masked, the last lines kept for the error message.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { LineSplitter } from '../execution/line-splitter.js';
import { registerContainment, signalGroup, terminateGroup, unregisterContainment, type Killable } from '../execution/process-tree.js';
import { childEnvironment } from '../execution/step-env.js';
import { outside } from '../execution/containment/own-cgroup.js';

/** How many lines of output a failure keeps. */
const TAIL_LINES = 40;

/** How a command ended and what it printed last. */
export interface CommandOutcome {
  ok: boolean;
  /** Exit code, or null when killed or not started. */
  exitCode: number | null;
  /** Why it could not start or was stopped. */
  reason?: string;
  /** The last lines of stdout and stderr, masked. */
  tail: string[];
}

/** Runs `argv`, passing each line of its output to `log`. Never rejects. */
export async function runCommand(argv: string[], o: RunCommandOptions): Promise<CommandOutcome> {
  const tail: string[] = [];
  const child = outside(execa(argv[0]!, argv.slice(1), {
    // A package's build script runs with what an installer inherits: never a credential.
    env: { ...(o.base ?? childEnvironment()), ...o.env },
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    windowsHide: true,
  }));
  for (const stream of ['stdout', 'stderr'] as const) {
    const split = new LineSplitter((line, partial) => {
      if (partial) return;
      const l = maskUrlCredentials(line);
      tail.push(l);
      if (tail.length > TAIL_LINES) tail.shift();
      if (o.quiet !== true) o.log(l);
    });
    child[stream]?.on('data', (chunk: Buffer) => split.push(chunk));
    child[stream]?.on('end', () => split.end());
  }
  // In the live registry while it runs: a second Ctrl-C (killAllNow) ends pip's whole group too.
  const killable: Killable | undefined = child.pid === undefined ? undefined : { group: child.pid, killNow: () => void signalGroup(child.pid!, 'SIGKILL') };
  if (killable) registerContainment(killable);
  const onAbort = () => child.pid !== undefined && void terminateGroup(child.pid);
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await child;
    if (r.exitCode === undefined && !r.signal) return { ok: false, exitCode: null, reason: `could not run \`${argv[0]}\`: ${(r as { originalMessage?: string }).originalMessage ?? r.shortMessage}`, tail };
    if (o.signal?.aborted) return { ok: false, exitCode: null, reason: 'canceled', tail };
    if (r.signal) return { ok: false, exitCode: null, reason: `killed by ${r.signal}`, tail };
    return { ok: r.exitCode === 0, exitCode: r.exitCode ?? null, tail };
  } finally {
    if (killable) unregisterContainment(killable);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** `https://user:token@host/` → `https://***@host/` (an index URL may carry credentials). */
export function maskUrlCredentials(line: string): string {
  return line.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
}

/** The lines of a failure worth showing: from the last `ERROR`/`error:` on, else the last few. */
export function errorLines(tail: string[], max = 12): string[] {
  const isError = (l: string) => /^\s*(ERROR|error)\b|^\s*×|\berror:/.test(l);
  const first = tail.findIndex(isError);
  const last = tail.findLastIndex(isError);
  const from = first < 0 ? Math.max(0, tail.length - max) : Math.max(first, last - max + 1);
  return tail.slice(from, from + max).filter((l) => l.trim() !== '');
}

/** The absolute path of `name` on PATH, or undefined. */
export function onPath(name: string, processEnv: Record<string, string | undefined> = process.env): string | undefined {
  for (const dir of (processEnv.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** What the command starts from (childEnvironment of the definitions); default: childEnvironment() of process.env. */
  base?: Record<string, string>;
  /** Added to `base`. */
  env?: Record<string, string>;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Keep the lines for the tail only (a version query). */
  quiet?: boolean;
}
