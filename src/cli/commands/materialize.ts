/** `runner materialize`: runs a selection (or a job) of assets, records the run, shows it live. */
import type { Command } from 'commander';
import { envOption, pipelinesOption, runOptions, type RunOptions } from '../options.js';

/** The options of `runner materialize`. */
export interface MaterializeOptions extends RunOptions {
  select?: string;
  job?: string;
}

export function register(program: Command): void {
  const cmd = program.command('materialize').description('run the selected assets in dependency order, record the run and show it live');
  cmd.option('-s, --select <expr>', 'the assets to run (a selection expression)');
  cmd.option('-j, --job <name>', 'run the assets of this job');
  pipelinesOption(cmd);
  envOption(cmd);
  runOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Exit codes: 0 every step succeeded, 1 a step failed (or was skipped), 2 bad input
(nothing ran, nothing was recorded), 130 / 143 canceled by Ctrl-C / SIGTERM.
Ctrl-C cancels the run (every process of the running steps, also those that left their
process group, gets SIGTERM, then SIGKILL after RUNNER_KILL_GRACE, default 5s); a second
Ctrl-C kills them at once. Steps get a minimal environment (PATH, HOME, locale, TZ,
proxies) plus their inherit_env; RUNNER_CGROUPS=off runs them without a cgroup each.

Examples:
  runner materialize -p examples/quickstart --select '*'
  runner materialize --select 'openmetadata/*' --env qa
  runner materialize --select 'openmetadata__trino__metadata+'    # legacy name, and what depends on it
  runner materialize --job critical_metadata_ingestion --fail-fast
  runner materialize --select openmetadata/dbt/metadata --retries 0   # no retries while debugging
  runner materialize --select 'status:failure' --dry-run          # the assets whose last step failed
  runner retry 3f2a9c1e                                            # re-run what a run did not finish
  runner materialize --select '*' --output json | jq -c 'select(.type == "step_failed")'`,
  );
  cmd.action(async (opts: MaterializeOptions) => {
    const { materialize } = await import('../../execution/materialize.js');
    process.exitCode = await materialize(opts);
  });
}
