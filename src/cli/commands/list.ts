/** `runner list`: assets, jobs, schedules and notifications, as a table or one JSON document. */
import type { Command } from 'commander';
import { jsonOption, loadOrExit, pipelinesOption, type PipelinesOptions } from '../options.js';

interface ListOptions extends PipelinesOptions {
  select?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('list').description('list assets (in dependency order), jobs, schedules and notifications');
  pipelinesOption(cmd);
  cmd.option('-s, --select <expr>', 'only the assets this selection picks');
  jsonOption(cmd, 'print one JSON document: {"assets": [...], "jobs": [...], "schedules": [...], "notifications": [...]}');
  cmd.addHelpText(
    'after',
    `
Examples:
  runner list
  runner list --select 'group:openmetadata and not kind:dbt'
  runner list --json | jq '.assets[].key'`,
  );
  cmd.action(async (opts: ListOptions) => {
    const defs = await loadOrExit(opts);
    const { listDocument, printList } = await import('../list-view.js');
    const doc = await listDocument(defs, opts.select);
    if (opts.json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    else printList(doc);
  });
}
