/**
 * The plain view: one timestamped line per event, prefixed by the asset key, for logs,
 * CI and pipes. Output lines are written as `HH:MM:SS.mmm KEY | line` (UTC time of day);
 * status changes as `HH:MM:SS.mmm KEY ✔ success in 1.2s`. Writes are batched.
 */
import type { RunEvent } from '../execution/events.js';
import { formatDuration } from '../util/duration.js';
import type { Renderer, TextOut } from './renderer.js';
import { BufferedWriter, style, type Style } from './style.js';

/** The plain, line-per-event view. */
export class PlainRenderer implements Renderer {
  readonly summaryToStdout = true;
  private readonly w: BufferedWriter;
  private readonly s: Style;
  /** The step (and stream) whose last piece of output had no newline, if any. */
  private openKey: string | undefined;
  private openStream: string | undefined;
  /** Failure messages already printed, with the step that printed each first. */
  private readonly failures = new Map<string, string>();

  constructor(out: TextOut, color: boolean) {
    this.w = new BufferedWriter(out);
    this.s = style(color);
  }

  start(): void {}

  emit(e: RunEvent): void {
    const s = this.s;
    const t = s.dim(e.ts.slice(11, 23));
    const key = e.key ?? '';
    switch (e.type) {
      case 'log': {
        const line = e.line ?? '';
        // Pieces of one long line continue each other: the prefix is written once, and
        // anything else that comes between starts on a line of its own.
        const same = this.openKey === key && this.openStream === e.stream;
        if (this.openKey !== undefined && !same) this.w.write('\n');
        const end = e.partial ? '' : '\n';
        if (same) this.w.write(line + end);
        else this.w.write(`${t} ${s.cyan(key)} ${e.stream === 'stderr' ? s.yellow('|') : s.dim('|')} ${line}${end}`);
        this.openKey = e.partial ? key : undefined;
        this.openStream = e.stream;
        return;
      }
      case 'run_started':
        this.line(`${t} ${s.bold('run')} ${e.run_id} started: ${String(e.data?.steps ?? '?')} steps, concurrency ${String(e.data?.concurrency ?? '?')}`);
        return;
      case 'step_started':
        this.line(`${t} ${s.cyan(key)} ▶ started${e.attempt && e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`);
        return;
      case 'retry_scheduled':
        this.line(`${t} ${s.cyan(key)} ${s.yellow('↻')} attempt ${e.attempt} failed, retrying in ${formatDuration(Number(e.data?.delay_ms ?? 0))}: ${firstLine(e.message)}`);
        return;
      case 'step_succeeded':
        this.line(`${t} ${s.cyan(key)} ${s.green('✔ success')}${duration(e)}`);
        return;
      case 'step_failed':
        this.line(`${t} ${s.cyan(key)} ${s.red('✖ failure')}${duration(e)}: ${sameAs(this.failures, key, e.message) ?? firstLine(e.message)}`);
        return;
      case 'step_skipped':
        this.line(`${t} ${s.cyan(key)} ${s.yellow('↓ skipped')}: ${e.message ?? ''}`);
        return;
      case 'step_canceled':
        this.line(`${t} ${s.cyan(key)} ${s.yellow('■ canceled')}${e.message ? `: ${e.message}` : ''}`);
        return;
      case 'run_finished':
        this.line(`${t} ${s.bold('run')} ${e.run_id} ${e.status}`);
        return;
    }
  }

  private line(text: string): void {
    // A status line after an unfinished long line starts on a line of its own.
    if (this.openKey !== undefined) {
      this.openKey = undefined;
      this.w.write('\n');
    }
    this.w.write(text + '\n');
  }

  async close(): Promise<void> {
    if (this.openKey !== undefined) {
      this.openKey = undefined;
      this.w.write('\n');
    }
    this.w.flush();
  }
}

/**
 * `same error as KEY` when an earlier step failed with this message (printed once per
 * cause: a missing CLI fails every step alike), else undefined, remembering it.
 */
export function sameAs(seen: Map<string, string>, key: string, message: string | undefined): string | undefined {
  if (!message) return undefined;
  const first = seen.get(message);
  if (first !== undefined && first !== key) return `same error as ${first}`;
  seen.set(message, key);
  return undefined;
}

function duration(e: RunEvent): string {
  const ms = e.data?.duration_ms;
  return typeof ms === 'number' ? ` in ${formatDuration(ms)}` : '';
}

function firstLine(s: string | undefined): string {
  if (!s) return '';
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i) + ' …';
}
