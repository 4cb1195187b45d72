/** `runner show RUN_ID`: one run, its steps, their outcomes and where their logs are. */
import type { Command } from 'commander';
import { jsonOption, pipelinesOption, type PipelinesOptions } from '../options.js';

interface ShowOptions extends PipelinesOptions {
  json?: boolean;
}

/** Registers the command on the program. */
export function register(program: Command): void {
  const cmd = program
    .command('show')
    .argument('<run-id>', 'a run id, or a unique prefix of one (as `runner runs` prints it)')
    .description('show one run: its steps, statuses, attempts, durations, metadata, failure messages, alert and log paths');
  pipelinesOption(cmd);
  jsonOption(cmd, 'print the run as JSON (see docs/api.md)');
  cmd.addHelpText(
    'after',
    `
Examples:
  runner show 3f2a9c1e
  runner show 3f2a9c1e-8d0b-4f7e-9a51-0c6de2b4a7f3 --json | jq '.steps[] | select(.status == "failure")'`,
  );
  cmd.action(async (id: string, opts: ShowOptions) => {
    const { showCommand } = await import('../../storage/commands.js');
    await showCommand(id, opts);
  });
}
