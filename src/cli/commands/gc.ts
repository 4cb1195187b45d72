/** `runner gc`: delete runs, events and logs older than the retention setting. */
import type { Command } from 'commander';
import { jsonOption, pipelinesOption, withStore, type PipelinesOptions } from '../options.js';

interface GcCliOptions extends PipelinesOptions {
  dryRun?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('gc').description('delete finished runs (with their steps, events and log files) older than runner.retention.runs');
  pipelinesOption(cmd);
  cmd.option('--dry-run', 'say what would be removed, remove nothing');
  jsonOption(cmd, 'print {"cutoff", "run_ids", "steps", "events", "log_dirs", "log_bytes", "ticks", "dry_run"}');
  cmd.addHelpText(
    'after',
    `
The retention is \`runner: {retention: {runs: 90d}}\` in the pipeline files (default 90d).
Runs still queued or started are never removed. runner serve does this once a day.

Examples:
  runner gc --dry-run
  runner gc`,
  );
  cmd.action(async (opts: GcCliOptions) => {
    const { collectGarbage, formatGcResult, formatRetention } = await import('../../serve/retention.js');
    await withStore(opts, (defs, store) => {
      const r = collectGarbage({ db: store.db, home: store.home, retentionMs: defs.settings.retention.runsMs, dryRun: opts.dryRun });
      if (opts.json) {
        const doc = { cutoff: r.cutoff, run_ids: r.runIds, steps: r.steps, events: r.events, log_dirs: r.logDirs, log_bytes: r.logBytes, ticks: r.ticks, dry_run: r.dryRun };
        process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      } else process.stdout.write(formatGcResult(r, formatRetention(defs.settings.retention.runsMs)));
    });
  });
}
