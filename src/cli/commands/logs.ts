/** `runner logs RUN_ID [KEY]`: a step's output, or every step's prefixed by its key. */
import type { Command } from 'commander';
import { pipelinesOption, type PipelinesOptions } from '../options.js';

interface LogsOptions extends PipelinesOptions {
  follow?: boolean;
}

/** Registers the command on the program. */
export function register(program: Command): void {
  const cmd = program
    .command('logs')
    .argument('<run-id>', 'a run id, or a unique prefix of one')
    .argument('[key]', "an asset key (the legacy a__b__c form works too); without it, every step's log, each line prefixed by its key")
    .description("print a run's step logs; --follow keeps printing new output until the run finishes");
  pipelinesOption(cmd);
  cmd.option('-f, --follow', 'keep printing what the steps write until the run finishes');
  cmd.addHelpText(
    'after',
    `
Examples:
  runner logs 3f2a9c1e                                  # all steps, lines prefixed by key
  runner logs 3f2a9c1e openmetadata/trino/metadata      # one step's log as written
  runner logs 3f2a9c1e openmetadata/trino/lineage -f    # follow while the run runs`,
  );
  cmd.action(async (id: string, key: string | undefined, opts: LogsOptions) => {
    const { logsCommand } = await import('../../storage/commands.js');
    await logsCommand(id, key, opts);
  });
}
