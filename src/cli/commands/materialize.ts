/** `runner materialize`: runs a selection (or a job) of assets, records the run, shows it live. */
import type { Command } from 'commander';
import { MAX_CONCURRENCY, choiceOption, envOption, pipelinesOption, positiveInt, type EnvOptions, type PipelinesOptions } from '../options.js';

/** The options of `runner materialize`. */
export interface MaterializeOptions extends PipelinesOptions, EnvOptions {
  select?: string;
  job?: string;
  concurrency?: number;
  failFast?: boolean;
  dryRun?: boolean;
  output?: 'tty' | 'plain' | 'json';
}

export function register(program: Command): void {
  const cmd = program.command('materialize').description('run the selected assets in dependency order, record the run and show it live');
  cmd.option('-s, --select <expr>', 'the assets to run (a selection expression)');
  cmd.option('-j, --job <name>', 'run the assets of this job');
  pipelinesOption(cmd);
  envOption(cmd);
  cmd.option('-c, --concurrency <n>', `steps at once, 1 to ${MAX_CONCURRENCY} (default runner.concurrency of the pipeline files, else 4)`, positiveInt('--concurrency', MAX_CONCURRENCY));
  cmd.option('--fail-fast', 'start no new step after the first failure');
  cmd.option('--dry-run', 'print the plan and what each step would run (secrets as ***); run and record nothing');
  cmd.addOption(choiceOption('-o, --output <mode>', 'tty (live tasks; the default on a terminal), plain (timestamped lines) or json (one event per line)', ['tty', 'plain', 'json']));
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
  runner materialize --select 'status:failure' --dry-run          # what a rerun of the failures would do
  runner materialize --select '*' --output json | jq -c 'select(.type == "step_failed")'`,
  );
  cmd.action(async (opts: MaterializeOptions) => {
    const { materialize } = await import('../../execution/materialize.js');
    process.exitCode = await materialize(opts);
  });
}
