/**
 * The built CLI for end-to-end tests: `bin/runner.js` when `npm run build` is newer than
 * every source file, else a fresh bundle of src/cli/main.ts (test/support/bundle.ts), so a
 * test never runs stale code and never races another test rebuilding dist/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { bundle, PROJECT_ROOT, newestMtime } from '../support/bundle.js';


let entry: Promise<string> | undefined;

/** The path of a script that runs the CLI (`node <it> materialize ...`). */
export function cliEntry(): Promise<string> {
  entry ??= (async () => {
    const dist = path.join(PROJECT_ROOT, 'dist', 'cli.js');
    const fresh = fs.existsSync(dist) && fs.statSync(dist).mtimeMs > Math.max(newestMtime(path.join(PROJECT_ROOT, 'src')), newestMtime(path.join(PROJECT_ROOT, 'schemas')));
    return fresh ? path.join(PROJECT_ROOT, 'bin', 'runner.js') : bundle('src/cli/main.ts');
  })();
  return entry;
}

/** A running CLI with its output collected. */
export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the CLI with `args` in `cwd` (env added to the current one). */
export async function startCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const file = await cliEntry();
  const child = spawn(process.execPath, [file, ...args], { cwd: opts.cwd ?? PROJECT_ROOT, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Runs the CLI to its end. */
export async function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await startCli(args, opts);
  const { code } = await r.exit;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}
