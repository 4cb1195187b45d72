/** `runner runs`: the recorded runs, newest first. */
import type { Command } from 'commander';
import { RUN_STATUSES, type RunStatus } from '../../definitions/model.js';
import { choiceOption, jsonOption, pipelinesOption, positiveInt, type PipelinesOptions } from '../options.js';

interface RunsOptions extends PipelinesOptions {
  limit: number;
  status?: RunStatus;
  json?: boolean;
}

/** Registers the command on the program. */
export function register(program: Command): void {
  const cmd = program.command('runs').description('list recorded runs, newest first (id, status, trigger, env, job or selection, timing, steps)');
  pipelinesOption(cmd);
  cmd.option('-n, --limit <n>', 'show at most N runs', positiveInt('--limit'), 20);
  cmd.addOption(choiceOption('--status <status>', 'only runs with this status', [...RUN_STATUSES]));
  jsonOption(cmd, 'print {"runs": [run, ...]} (see docs/api.md)');
  cmd.addHelpText(
    'after',
    `
The store is RUNNER_HOME (default: .runner/ beside the pipelines directory).

Examples:
  runner runs                          # the last 20 runs
  runner runs --status failure -n 5    # the last 5 failed runs
  runner runs --json | jq '.runs[0].id'`,
  );
  cmd.action(async (opts: RunsOptions) => {
    const { runsCommand } = await import('../../storage/commands.js');
    await runsCommand(opts);
  });
}
