/** `runner retry RUN_ID`: re-runs the steps of a run that did not succeed (re-execute from failure). */
import type { Command } from 'commander';
import { envOption, pipelinesOption, runOptions, type RunOptions } from '../options.js';

/** The options of `runner retry`. */
export type RetryCliOptions = RunOptions;

/** Registers the command on the program. */
export function register(program: Command): void {
  const cmd = program
    .command('retry')
    .argument('[run-id]', 'a finished run id, or a unique prefix of one (default: the latest run, as `dbt retry` does)')
    .description('re-run the steps of a run that did not succeed (failed, skipped, canceled, never started) as a new run');
  pipelinesOption(cmd);
  envOption(cmd);
  runOptions(cmd);
  cmd.addHelpText(
    'after',
    `
The new run has the steps of RUN_ID (default: the latest run) that did not succeed, planned from the pipeline files
as they are now, in the environment RUN_ID ran in (--env overrides it); steps that
succeeded are not run again. Its trigger is \`retry of RUN_ID\` (\`retry_of\` in --json).
Exit 2, with nothing run, when RUN_ID is still running, succeeded, or names an asset the
pipeline files no longer define; otherwise the exit codes of \`runner materialize\`.

Examples:
  runner retry                                # the latest run
  runner retry 3f2a9c1e                       # after \`runner materialize\` printed run id 3f2a9c1e…
  runner retry 3f2a9c1e --dry-run             # what it would run
  runner retry 3f2a9c1e --retries 0 -o plain  # once each, while debugging
  runner retry $(runner runs --status failure --json | jq -r '.runs[0].id')`,
  );
  cmd.action(async (id: string | undefined, opts: RetryCliOptions) => {
    const { retry } = await import('../../execution/retry-command.js');
    process.exitCode = await retry(id, opts);
  });
}
