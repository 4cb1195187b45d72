/** `runner check`: validates every pipeline file; `--online` also asks the servers. */
import type { Command } from 'commander';
import { envOption, loadOrExit, pipelinesOption, type EnvOptions, type PipelinesOptions } from '../options.js';

interface CheckOptions extends PipelinesOptions, EnvOptions {
  online?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('check')
    .description('validate the pipeline files (exit 0 valid, 2 invalid); --online also checks secrets and servers (exit 1 when one fails)');
  pipelinesOption(cmd);
  envOption(cmd);
  cmd.option('--online', 'also resolve secrets and run each handler\'s preflight checks against the chosen environment');
  cmd.option('--json', 'print the result as JSON');
  cmd.addHelpText(
    'after',
    `
Examples:
  runner check                         # schema, references, graph, cron, selections
  runner check -p examples/quickstart
  runner check --online --env qa       # also: secrets resolvable, CLI found, server reachable`,
  );
  cmd.action(async (opts: CheckOptions) => {
    const defs = await loadOrExit(opts);
    const { runCheck } = await import('../check-run.js');
    process.exitCode = await runCheck(defs, opts);
  });
}
