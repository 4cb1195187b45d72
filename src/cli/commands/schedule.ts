/** `runner schedule list|start|stop|preview|history`: schedules' status, ticks and history. */
import type { Command } from 'commander';
import { jsonOption, loadOrExit, pipelinesOption, positiveInt, withStore, type JsonOptions, type PipelinesOptions } from '../options.js';

export function register(program: Command): void {
  const cmd = program.command('schedule').description('show, start and stop schedules (list, start, stop, preview, history)');
  cmd.addHelpText(
    'after',
    `
A schedule ticks only while it is running and a \`runner serve\` is up. Its default_status
holds until someone starts or stops it; start/stop work whether or not serve is running
(a running serve picks the change up within a few seconds).

Examples:
  runner schedule list
  runner schedule start critical_metadata_schedule
  runner schedule preview metadata_ingestion_schedule --count 10
  runner schedule history critical_metadata_schedule --limit 5`,
  );

  const list = cmd.command('list').description('every schedule: status, the next three ticks in its time zone, the last tick');
  pipelinesOption(list);
  jsonOption(list, 'print {"schedules": [...], "serves": [...]}');
  list.addHelpText('after', `\nExamples:\n  runner schedule list\n  runner schedule list --json | jq '.schedules[] | {name, status}'`);
  list.action(async (opts: JsonOptions) => {
    const { scheduleList, formatScheduleList } = await import('../../schedule/commands.js');
    await withStore(opts, (defs, store) => {
      const doc = scheduleList(defs, store.db, new Date());
      process.stdout.write(opts.json ? JSON.stringify(doc, null, 2) + '\n' : formatScheduleList(doc));
    });
  });

  for (const [name, status, what] of [
    ['start', 'running', 'start a schedule: it ticks while runner serve runs (from now on; earlier ticks are not caught up)'],
    ['stop', 'stopped', 'stop a schedule: no more ticks (a run in progress carries on; queued ticks are dropped)'],
  ] as const) {
    const sub = cmd.command(`${name} <name>`).description(what);
    pipelinesOption(sub);
    sub.addHelpText('after', `\nExamples:\n  runner schedule ${name} critical_metadata_schedule`);
    sub.action(async (scheduleName: string, opts: PipelinesOptions) => {
      const { findSchedule, changeScheduleStatus } = await import('../../schedule/commands.js');
      await withStore(opts, (defs, store) => {
        const def = findSchedule(defs, scheduleName);
        process.stdout.write(changeScheduleStatus(def, store.db, status, new Date()));
      });
    });
  }

  const preview = cmd.command('preview <name>').description("the schedule's next ticks, in its time zone and in UTC");
  pipelinesOption(preview);
  preview.option('-n, --count <n>', 'how many ticks', positiveInt('--count'), 5);
  jsonOption(preview, 'print {"schedule", "cron", "timezone", "ticks": [{"time", "local"}]}');
  preview.addHelpText('after', `\nExamples:\n  runner schedule preview metadata_ingestion_schedule\n  runner schedule preview critical_metadata_schedule --count 12`);
  preview.action(async (scheduleName: string, opts: PipelinesOptions & { count: number; json?: boolean }) => {
    const { findSchedule, schedulePreview, formatPreview } = await import('../../schedule/commands.js');
    const defs = await loadOrExit(opts);
    const p = schedulePreview(findSchedule(defs, scheduleName), Math.min(opts.count, 1000), new Date());
    process.stdout.write(opts.json ? JSON.stringify(p, null, 2) + '\n' : formatPreview(p));
  });

  const history = cmd.command('history <name>').description("the schedule's recorded ticks, newest first: tick time, run id or why it did not run");
  pipelinesOption(history);
  history.option('-n, --limit <n>', 'show at most N ticks', positiveInt('--limit'), 20);
  jsonOption(history, 'print {"schedule", "timezone", "ticks": [{"time", "local", "outcome", "run_id", "run_status", "reason"}]}');
  history.addHelpText('after', `\nExamples:\n  runner schedule history critical_metadata_schedule\n  runner schedule history critical_metadata_schedule --limit 50 --json`);
  history.action(async (scheduleName: string, opts: JsonOptions & { limit: number }) => {
    const { findSchedule, scheduleHistory, formatHistory } = await import('../../schedule/commands.js');
    await withStore(opts, (defs, store) => {
      const h = scheduleHistory(findSchedule(defs, scheduleName), store.db, opts.limit);
      process.stdout.write(opts.json ? JSON.stringify(h, null, 2) + '\n' : formatHistory(h));
    });
  });
}
