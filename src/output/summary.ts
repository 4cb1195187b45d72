/**
 * The end-of-run summary: counts by status, each failed step with the last lines of its
 * output, the run id and where the logs are. `Tails` is the sink that remembers the last
 * lines of every step as the run goes (a few lines each, whatever a step prints).
 */
import path from 'node:path';
import type { EventSink, RunEvent } from '../execution/events.js';
import type { RunOutcome } from '../execution/executor.js';
import { STEP_STATUSES } from '../definitions/model.js';
import { formatDuration } from '../util/duration.js';
import { visibleLine, type Style } from './style.js';

/** Lines of output kept per step for the summary. */
export const SUMMARY_LINES = 10;
const LINE_CHARS = 300;

/** Remembers the last lines of output of every step. */
export class Tails implements EventSink {
  private readonly lines = new Map<string, string[]>();

  emit(e: RunEvent): void {
    if (e.type !== 'log' || e.key === undefined || e.line === undefined) return;
    let list = this.lines.get(e.key);
    if (!list) this.lines.set(e.key, (list = []));
    const l = e.line.length > LINE_CHARS ? e.line.slice(0, LINE_CHARS) + '…' : e.line;
    list.push(l);
    if (list.length > SUMMARY_LINES) list.shift();
  }

  /** The last lines of a step, oldest first. */
  of(key: string): string[] {
    return this.lines.get(key) ?? [];
  }
}

/** Where the summary points for logs. */
export interface SummaryContext {
  /** The directory of the run's log files, if recorded. */
  logsDir?: string;
  /** The arguments that find the run's store again (` -p DIR`), for the commands the summary suggests. */
  locate?: string;
  style: Style;
}

/**
 * ` -p DIR` when `runner logs` would not find the run without it (the run used another
 * pipelines directory than `pipelines/` here), else ``. With RUNNER_HOME set the store is
 * found through it and -p does not matter.
 */
export function locateArgs(pipelines: string, env: Record<string, string | undefined> = process.env, cwd = process.cwd()): string {
  if (env.RUNNER_HOME) return '';
  const abs = path.resolve(cwd, pipelines);
  if (abs === path.resolve(cwd, 'pipelines')) return '';
  const rel = path.relative(cwd, abs);
  const shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
  return ` -p ${shellQuote(shown)}`;
}

/** A word the shell reads back as it is. */
function shellQuote(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

const ICON: Record<string, string> = { success: '✔', failure: '✖', skipped: '↓', canceled: '■', pending: '○', running: '…' };

/** Failed steps that would print the same text, with the output lines shown under it. */
interface FailureGroup {
  steps: RunOutcome['steps'];
  tail: string[];
}

/** Failed steps grouped by error and shown output, in the order of each group's first step. */
function failureGroups(outcome: RunOutcome, tails: Tails): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const st of outcome.steps) {
    if (st.status !== 'failure') continue;
    const error = st.error ?? 'failed';
    // The command handler's error already ends with the last lines; others get them here.
    const t = tails.of(st.key);
    const last = t.length > 0 ? t[t.length - 1]! : undefined;
    const tail = last !== undefined && !error.includes(last.slice(0, 80)) ? t : [];
    const id = JSON.stringify([error, tail]);
    const g = groups.get(id);
    if (g) g.steps.push(st);
    else groups.set(id, { steps: [st], tail });
  }
  return [...groups.values()];
}

/** The summary text (ends with a newline). */
export function formatSummary(outcome: RunOutcome, tails: Tails, ctx: SummaryContext): string {
  const { style: s } = ctx;
  const counts = new Map<string, number>();
  for (const st of outcome.steps) counts.set(st.status, (counts.get(st.status) ?? 0) + 1);
  const paint = (status: string, text: string) =>
    status === 'success' ? s.green(text) : status === 'failure' ? s.red(text) : status === 'canceled' || status === 'skipped' ? s.yellow(text) : text;
  const parts = STEP_STATUSES.filter((st) => counts.has(st)).map((st) => paint(st, `${counts.get(st)} ${st}`));
  const out: string[] = [''];
  out.push(`${s.bold(`Run ${paint(outcome.status, outcome.status)}`)} in ${formatDuration(outcome.endedAt - outcome.startedAt)}: ${parts.join(', ') || 'no steps'}`);
  for (const group of failureGroups(outcome, tails)) {
    const st = group.steps[0]!;
    const error = st.error ?? 'failed';
    if (group.steps.length === 1) out.push('', `${s.red(ICON.failure!)} ${s.bold(st.key)}${st.attempts > 1 ? ` (${st.attempts} attempts)` : ''}`);
    else out.push('', `${s.red(ICON.failure!)} ${s.bold(`${group.steps.length} steps`)} failed with the same error: ${group.steps.map((x) => s.bold(x.key)).join(', ')}`);
    const [headline, ...rest] = error.split('\n');
    out.push(`    ${headline}`);
    for (const l of rest) out.push(s.dim(`    | ${visibleLine(l)}`));
    if (group.tail.length > 0) {
      out.push(s.dim('    last output:'));
      for (const l of group.tail) out.push(s.dim(`    | ${visibleLine(l)}`));
    }
  }
  const skipped = outcome.steps.filter((st) => st.status === 'skipped');
  if (skipped.length > 0 && skipped.length <= 10) {
    out.push('');
    for (const st of skipped) out.push(s.yellow(`${ICON.skipped} ${st.key}: ${st.error ?? 'skipped'}`));
  }
  const id = outcome.runId.slice(0, 8);
  const locate = ctx.locate ?? '';
  out.push('', `Run id: ${outcome.runId}`);
  if (ctx.logsDir) out.push(`Logs:   ${ctx.logsDir}  (runner logs ${id}${locate} [KEY])`);
  const unfinished = outcome.steps.filter((st) => st.status !== 'success').length;
  if (outcome.status !== 'success' && unfinished > 0) out.push(`Retry:  runner retry ${id}${locate}  (runs the ${unfinished === 1 ? 'step' : `${unfinished} steps`} that did not succeed)`);
  return out.join('\n') + '\n';
}
