/**
 * The `runner` command line. Each command lives in its own module under cli/commands/
 * and registers itself on the program; heavy modules are imported inside actions so a
 * command only pays for what it uses.
 */
import { Command, CommanderError } from 'commander';
import { InputError, formatDiagnostic } from '../diagnostics/diagnostic.js';
import { COMMANDS } from './commands/index.js';
import { allowOwnCgroup } from '../execution/containment/own-cgroup.js';

/** Exit codes: 0 ok, 1 a step or check failed, 2 bad input, 130/143 canceled. */
export const EXIT = { ok: 0, failure: 1, input: 2, sigint: 130, sigterm: 143 } as const;

export function buildProgram(): Command {
  const program = new Command('runner')
    .description('A declarative pipeline-as-config runner: assets, jobs, schedules, secrets and alerts in YAML.')
    .version(VERSION, '-V, --version')
    // `runner -V` only before a command: `runner tools install --version 1.7.7.4` is the command's own option.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of COMMANDS) register(program);
  program.addHelpText('after', TOP_HELP);
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/** What `runner --help` shows after the commands: a first session, and where things are. */
const TOP_HELP = `
Every command takes -p DIR (the pipelines directory: else RUNNER_PIPELINES, else
pipelines/ in the current directory) and --help with its own examples. Runs and logs are
kept in RUNNER_HOME (default .runner/ beside the pipelines directory).

Examples:
  runner list                                       # assets in dependency order, jobs, schedules
  runner check                                      # validate every file (exit 2 with path:line:col)
  runner materialize -p examples/quickstart --select '*'
  runner materialize --select 'openmetadata/*' --env qa --dry-run
  runner runs -p examples/quickstart                # recent runs; then show / logs RUN_ID
  runner retry 3f2a9c1e -p examples/quickstart      # re-run the steps of a run that did not succeed
  runner serve                                      # schedules, watchers and the web UI on http://127.0.0.1:3070/

Exit codes: 0 ok, 1 a step or check failed, 2 bad input (nothing ran), 130/143 canceled.
Docs: README.md and docs/ in the runner's repository.`;

declare const __RUNNER_VERSION__: string | undefined;
const VERSION = typeof __RUNNER_VERSION__ === 'string' ? __RUNNER_VERSION__ : '0.0.0-dev';

/** Runs the CLI; resolves to the exit code (the caller exits). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    return exitCodeFor(err);
  }
}

/** Turns what an action threw into an exit code, printing bad input without a stack trace. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version are exits with code 0; usage errors were already printed by commander.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return EXIT.input;
  }
  if (err instanceof InputError) {
    for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    return EXIT.input;
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`runner: internal error: ${message}\n`);
  return EXIT.failure;
}

// Entry point when bundled as dist/cli.js (bin/runner.js imports it).
if (process.env.RUNNER_NO_MAIN !== '1') {
  // Only the command itself: a process that imports the modules starts processes of its own.
  allowOwnCgroup();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.exitCode = exitCodeFor(err);
    },
  );
}
