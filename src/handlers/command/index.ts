/**
 * The `command` handler: runs a program with its arguments, without a shell, in its own
 * process group. stdout and stderr go line by line into the step log; exit code 0 is
 * success. Values of `config.env` (secrets included) reach the program only through its
 * environment, never its argv or the log.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Handler, RunContext, StepResult } from '../handler.js';
import schema from '../../../schemas/handlers/command.schema.json' with { type: 'json' };
import { LineSplitter } from '../../execution/line-splitter.js';
import { groupAlive, terminateGroup } from '../../execution/process-tree.js';
import { commandSpec, runCommandRemote } from './remote.js';

/** The config of a `command` asset (schemas/handlers/command.schema.json). */
export interface CommandConfig {
  /** The program and its arguments. */
  run: string[];
  /** Working directory, relative to the project directory unless absolute. */
  cwd?: string;
  /** Variables added to the runner's environment. */
  env?: Record<string, string>;
}

/** Lines of output kept for the error message of a failed step. */
const TAIL_LINES = 10;
const TAIL_LINE_CHARS = 500;

/** The `command` handler. */
export const commandHandler: Handler<CommandConfig> = {
  name: 'command',
  description: 'Runs a program (no shell) and succeeds when it exits 0.',
  schema,
  render({ config }) {
    return { command: [...config.run], ...(config.env ? { env: { ...config.env } } : {}) };
  },
  run: (ctx) => (ctx.launcher ? runCommandRemote(ctx) : runCommand(ctx)),
  spec: commandSpec,
};

export default commandHandler;

function workingDir(config: CommandConfig, projectDir: string): string {
  return config.cwd ? path.resolve(projectDir, config.cwd) : projectDir;
}

async function runCommand(ctx: RunContext<CommandConfig>): Promise<StepResult> {
  const { config, signal } = ctx;
  const [file, ...args] = config.run;
  if (!file) return { ok: false, error: 'config.run is empty' };
  const cwd = workingDir(config, ctx.projectDir);
  if (!existsSync(cwd)) return { ok: false, error: `working directory ${cwd} does not exist` };
  if (signal.aborted) return { ok: false, error: 'canceled before start' };

  const tail: string[] = [];
  const keep = (line: string) => {
    const l = line.length > TAIL_LINE_CHARS ? line.slice(0, TAIL_LINE_CHARS) + '…' : line;
    tail.push(l);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const splitter = (stream: 'stdout' | 'stderr') =>
    new LineSplitter((line, partial) => {
      ctx.log(line, stream, partial);
      keep(line);
    });
  const out = splitter('stdout');
  const err = splitter('stderr');

  const child = execa(file, args, {
    cwd,
    env: config.env ?? {},
    extendEnv: true,
    buffer: false,
    detached: true, // its own process group: the whole tree can be signalled
    cleanup: false,
    stdin: 'ignore',
    reject: false,
    stripFinalNewline: false,
  });
  const pid = child.pid;
  const kills: Array<Promise<void>> = [];
  let onAbort: (() => void) | undefined;
  if (pid !== undefined) {
    ctx.trackProcess(pid);
    onAbort = () => kills.push(terminateGroup(pid));
    signal.addEventListener('abort', onAbort, { once: true });
    // When the program exits, whatever it left behind in its group is terminated too:
    // nothing outlives its step, and pipes held open by leftovers do not stall the step.
    child.once('exit', () => {
      if (!signal.aborted && groupAlive(pid)) kills.push(terminateGroup(pid));
    });
  }
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdout?.once('end', () => out.end());
  child.stderr?.once('end', () => err.end());

  const result = await child;
  out.end();
  err.end();
  if (onAbort) signal.removeEventListener('abort', onAbort);
  await Promise.all(kills);
  if (pid !== undefined) ctx.untrackProcess(pid);

  if (result.exitCode === 0 && !signal.aborted) return { ok: true, exitCode: 0 };
  let head: string;
  const code = (result as { code?: string }).code;
  if (pid === undefined || code === 'ENOENT' || code === 'EACCES') {
    head = code === 'ENOENT' ? `command not found: ${file}` : code === 'EACCES' ? `permission denied: ${file}` : `cannot run ${file}: ${result.originalMessage ?? result.shortMessage}`;
  } else if (result.exitCode !== undefined) {
    head = `exit code ${result.exitCode}`;
  } else {
    head = `killed by ${result.signal ?? 'a signal'}`;
  }
  // The first line is the headline (exit code and the last thing the program said); the
  // last lines of output follow for `runner show` and the summary.
  const lastSaid = [...tail].reverse().find((l) => l.trim() !== '');
  const error = tail.length > 0 ? `${head}${lastSaid ? `: ${lastSaid.trim()}` : ''}\n${tail.join('\n')}` : head;
  return { ok: false, exitCode: result.exitCode ?? null, error };
}
