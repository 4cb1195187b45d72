/** `runner watcher list|start|stop|history`: the Dagster watchers' status, cursor and alerts. */
import type { Command } from 'commander';
import { jsonOption, pipelinesOption, positiveInt, withStore, type JsonOptions, type PipelinesOptions } from '../options.js';

export function register(program: Command): void {
  const cmd = program.command('watcher').description("show, start and stop watchers: serve's alerts on failed Dagster runs (list, start, stop, history)");
  cmd.addHelpText(
    'after',
    `
A watcher polls a Dagster webserver's GraphQL API while it is running and a \`runner serve\`
is up, and sends the runner's failure alert for every Dagster run that fails, in every
code location. Its default_status holds until someone starts or stops it; start/stop work
whether or not serve is running (a running serve picks the change up within a few seconds).

Examples:
  runner watcher list
  runner watcher start dagster_run_failures
  runner watcher history dagster_run_failures --limit 50
  runner watcher stop dagster_run_failures`,
  );

  const list = cmd.command('list').description('every watcher: status, Dagster URL, last poll, how far it has read, its alerts');
  pipelinesOption(list);
  jsonOption(list, 'print {"watchers": [...]}');
  list.addHelpText('after', `\nExamples:\n  runner watcher list\n  runner watcher list --json | jq '.watchers[] | {name, status, last_error}'`);
  list.action(async (opts: JsonOptions) => {
    const { watcherList, formatWatcherList } = await import('../../watch/commands.js');
    await withStore(opts, (defs, store) => {
      const doc = watcherList(defs, store.db);
      process.stdout.write(opts.json ? JSON.stringify(doc, null, 2) + '\n' : formatWatcherList(doc));
    });
  });

  for (const [name, status, what] of [
    ['start', 'running', 'start a watcher: runner serve alerts on Dagster runs that fail from now on'],
    ['stop', 'stopped', 'stop a watcher: no more polls (alerts already claimed are delivered when it runs again)'],
  ] as const) {
    const sub = cmd.command(`${name} <name>`).description(what);
    pipelinesOption(sub);
    sub.addHelpText('after', `\nExamples:\n  runner watcher ${name} dagster_run_failures`);
    sub.action(async (watcherName: string, opts: PipelinesOptions) => {
      const { findWatcher, changeWatcherStatus } = await import('../../watch/commands.js');
      await withStore(opts, (defs, store) => {
        process.stdout.write(changeWatcherStatus(findWatcher(defs, watcherName), store.db, status, new Date()));
      });
    });
  }

  const history = cmd.command('history <name>').description("the watcher's failed runs and what became of each alert, and its poll errors, newest first");
  pipelinesOption(history);
  history.option('-n, --limit <n>', 'show at most N entries', positiveInt('--limit'), 20);
  jsonOption(history, 'print {"watcher", "entries": [{"kind": "alert" | "error" | "recovered", "time", ...}]}');
  history.addHelpText(
    'after',
    `
Alert statuses: sent, printed (no webhook configured), failed (retried later), skipped
(Dagster will retry the run), given_up (failed for a day), uncertain (serve stopped while
sending: not sent again), claimed/sending (in progress).

Examples:
  runner watcher history dagster_run_failures
  runner watcher history dagster_run_failures --limit 100 --json`,
  );
  history.action(async (watcherName: string, opts: JsonOptions & { limit: number }) => {
    const { findWatcher, watcherHistory, formatWatcherHistory } = await import('../../watch/commands.js');
    await withStore(opts, (defs, store) => {
      const h = watcherHistory(findWatcher(defs, watcherName), store.db, opts.limit);
      process.stdout.write(opts.json ? JSON.stringify(h, null, 2) + '\n' : formatWatcherHistory(h));
    });
  });
}
