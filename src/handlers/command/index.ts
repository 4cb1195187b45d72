/**
 * The `command` handler: runs a program with its arguments, without a shell, in its own
 * process group and the step's containment (everything it starts ends with the step).
 * stdout and stderr go line by line into the step log; exit code 0 is success. The
 * program gets the step's environment (minimal, see RunContext.stepEnv) plus `config.env`;
 * values of `config.env` (secrets included) reach it only through its environment, never
 * its argv or the log.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Handler, RunContext, StepResult } from '../handler.js';
import schema from '../../../schemas/handlers/command.schema.json' with { type: 'json' };
import { runStepProcess } from '../../execution/step-process.js';
import { commandSpec, runCommandRemote } from './remote.js';

/** The config of a `command` asset (schemas/handlers/command.schema.json). */
export interface CommandConfig {
  /** The program and its arguments. */
  run: string[];
  /** Working directory, relative to the project directory unless absolute. */
  cwd?: string;
  /** Variables added to the step's environment. */
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
  // Only the head of a long line (its first piece) is kept; masked before it is cut, so a
  // secret straddling the cut is not left in halves.
  const continuing = { stdout: false, stderr: false };
  const keep = (line: string, stream: 'stdout' | 'stderr', partial: boolean) => {
    const more = continuing[stream];
    continuing[stream] = partial;
    if (more) return;
    const masked = ctx.mask(line);
    const l = masked.length > TAIL_LINE_CHARS ? masked.slice(0, TAIL_LINE_CHARS) + '…' : masked;
    tail.push(l);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const result = await runStepProcess(file, args, {
    contain: ctx.contain,
    signal,
    cwd,
    // The step's environment, then what the asset declares.
    env: { ...ctx.stepEnv, ...(config.env ?? {}) },
    onLine: (line, stream, partial) => {
      ctx.log(line, stream, partial);
      keep(line, stream, partial === true);
    },
  });

  if (result.exitCode === 0 && !signal.aborted) return { ok: true, exitCode: 0 };
  let head: string;
  const code = result.startError?.code;
  if (result.startError) {
    head = code === 'ENOENT' ? `command not found: ${file}` : code === 'EACCES' ? `permission denied: ${file}` : `cannot run ${file}: ${result.startError.message}`;
  } else if (result.exitCode !== undefined) {
    head = `exit code ${result.exitCode}`;
  } else {
    head = `killed by ${result.signal ?? 'a signal'}`;
  }
  // The first line is the headline (exit code and the last thing the program said); the
  // last lines of output follow for `runner show` and the summary.
  const lastSaid = [...tail].reverse().find((l) => l.trim() !== '');
  const error = tail.length > 0 ? `${head}${lastSaid ? `: ${lastSaid.trim()}` : ''}\n${tail.join('\n')}` : head;
  return { ok: false, exitCode: result.startError ? null : (result.exitCode ?? null), error };
}
