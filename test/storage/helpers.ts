/** Shared bits of the storage tests: temp homes, run metadata, events, the CLI harness. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Command, CommanderError } from 'commander';
import { InputError, formatDiagnostic } from '../../src/diagnostics/diagnostic.js';
import type { RunEvent, RunEventType } from '../../src/execution/events.js';
import type { RunMeta } from '../../src/storage/store.js';
import { register as registerRuns } from '../../src/cli/commands/runs.js';
import { register as registerShow } from '../../src/cli/commands/show.js';
import { register as registerLogs } from '../../src/cli/commands/logs.js';

/** A fresh temporary directory (a project: RUNNER_HOME is its `.runner`). */
export function tempDir(prefix = 'runner-store-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Run metadata with a new id. */
export function meta(keys: string[], extra: Partial<RunMeta> = {}): RunMeta {
  return { id: randomUUID(), trigger: { type: 'manual' }, env: 'dev', selection: '*', keys, pipelinesDir: '/nowhere/pipelines', ...extra };
}

let clock = Date.parse('2024-05-01T12:00:00.000Z');

/** An event with a strictly increasing timestamp. */
export function ev(type: RunEventType, runId: string, fields: Partial<RunEvent> = {}): RunEvent {
  clock += 1000;
  return { ts: new Date(clock).toISOString(), type, run_id: runId, ...fields };
}

/** A pid that belonged to a process which has exited (and been reaped). */
export async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

/** What a CLI invocation printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `runner runs|show|logs ...` in-process with only these commands registered (as
 * src/cli/main.ts does: bad input prints its message and exits 2).
 */
export async function runCli(args: string[], onStdout?: (text: string) => void): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const program = new Command('runner').exitOverride().configureOutput({
    writeOut: (s) => {
      stdout += s;
    },
    writeErr: (s) => {
      stderr += s;
    },
  });
  registerRuns(program);
  registerShow(program);
  registerLogs(program);
  for (const cmd of program.commands) cmd.exitOverride();
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    stdout += text;
    onStdout?.(text);
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  const savedExit = process.exitCode;
  process.exitCode = undefined;
  let code = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
    code = process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) code = err.code === 'commander.helpDisplayed' ? 0 : 2;
    else if (err instanceof InputError) {
      stderr += err.diagnostics.map(formatDiagnostic).join('\n') + '\n';
      code = 2;
    } else throw err;
  } finally {
    process.stdout.write = realWrite;
    process.exitCode = savedExit;
  }
  return { code, stdout, stderr };
}
