/**
 * The meaningful part of a failed run's output, kept while the output streams by in
 * bounded memory: the version-mismatch line, an initialisation error (as
 * `workflow_init_error_handler.py` prints it: `Error loading <pipelineType> configuration:
 * ...` or, on a line of its own, `Error initializing <pipelineType>: ...`, where the pipeline
 * type is `metadata`, `usage`, `profiler`, `TestSuite`, `autoClassification`, ...; upper-case
 * names in older CLIs), with the lines of its message that follow, the last Python
 * traceback's closing lines, the last ERROR lines and the last lines overall. With the
 * parsed summary (kept even when a crash followed it) they make the step's failure
 * message, instead of the whole log.
 */
import { stripLine, summaryLine, type WorkflowSummary } from './summary.js';

/** The longest failure message (Slack shows 3,000 characters per block). */
export const MAX_MESSAGE = 2_800;
const TAIL = 40;
const MAX_TRACEBACK = 400;

const INIT_ERROR = /^\s*(Error (?:loading [A-Za-z_]+ configuration|initializing [A-Za-z_]+): .*)$/;

/** Collects what a failure message needs from the output. */
export class OutputTail {
  /** `mask` is applied to each line before anything is clipped: a secret cut in two is no longer found. */
  constructor(private readonly mask: (text: string) => string = (t) => t) {}

  private tail: string[] = [];
  private errors: string[] = [];
  private traceback?: string[];
  private lastTraceback?: string[];
  versionMismatch?: string;
  initError?: string;
  /** Lines still to add to the init error (its exception's message goes on below it). */
  private initMore = 0;

  /** Feeds one line of output. */
  push(line: string): void {
    const { message, level, prefixed } = stripLine(line);
    const text = this.mask(message).trimEnd();
    if (text.trim() === '') return;
    this.tail.push(clip(text, 500));
    if (this.tail.length > TAIL) this.tail.shift();
    const vm = /Server version is \S+ vs\. Client version \S+\.(?:[^.]*\.)?/.exec(text);
    if (vm) this.versionMismatch = vm[0].trim();
    const init = INIT_ERROR.exec(text);
    if (init) {
      this.initError = clip(init[1]!.trim(), 600);
      this.initMore = 6;
    } else if (this.initMore > 0) {
      // The message of a ParsingConfigurationError goes on over lines of its own, up to the
      // handler's example file or its "more information" line.
      if (prefixed || /^(Make sure you are following|For more information|-{6,})/.test(text.trim())) this.initMore = 0;
      else {
        this.initError = clip(`${this.initError}\n${text.trim()}`, 900);
        this.initMore--;
      }
    }
    if (level === 'ERROR' || level === 'CRITICAL') {
      this.errors.push(clip(text, 500));
      if (this.errors.length > 5) this.errors.shift();
    }
    if (/^Traceback \(most recent call last\):/.test(text)) {
      this.traceback = [text];
      return;
    }
    if (this.traceback) {
      if (this.traceback.length < MAX_TRACEBACK) this.traceback.push(clip(text, 500));
      else this.traceback[MAX_TRACEBACK - 1] = clip(text, 500);
      // A line that is not indented ends the traceback: it is the exception.
      if (!/^\s/.test(text) && !/^During handling|^The above exception/.test(text)) {
        this.lastTraceback = this.traceback;
        this.traceback = undefined;
      }
    }
  }

  /** The last traceback's exception line and the frame that raised it. */
  tracebackTail(): string[] {
    const tb = this.lastTraceback ?? this.traceback;
    if (!tb || tb.length < 2) return [];
    const out: string[] = [];
    for (let i = tb.length - 2; i >= 1 && out.length < 2; i--) {
      out.unshift(tb[i]!);
      if (/^\s+File "/.test(tb[i]!)) break;
    }
    return ['Traceback (most recent call last, last frame):', ...out, tb[tb.length - 1]!];
  }

  /** The last ERROR lines. */
  errorLines(): string[] {
    return [...this.errors];
  }

  /** The last `n` lines of output. */
  lastLines(n = 10): string[] {
    return this.tail.slice(-n);
  }
}

/** How the process ended. */
export interface Ending {
  exitCode?: number | null;
  signal?: string | null;
  /** The program that ran, e.g. `metadata ingest`. */
  what: string;
}

/**
 * The failure message: how the CLI ended, then the version mismatch (with what to do), an
 * initialisation error, the summary, the failures it listed, the traceback's last lines;
 * the last ERROR lines or output lines when there is nothing better.
 */
export function failureMessage(end: Ending, tail: OutputTail, summary: WorkflowSummary | undefined, mask: (text: string) => string = (t) => t): string {
  const head = end.signal ? `\`${end.what}\` was killed by ${end.signal}` : `\`${end.what}\` exited with code ${end.exitCode ?? 'unknown'}`;
  const parts: string[] = [];
  if (tail.versionMismatch) {
    const server = /Server version is (\d+\.\d+)/.exec(tail.versionMismatch)?.[1];
    parts.push(tail.versionMismatch + (server ? ` Install openmetadata-ingestion~=${server}.0 (or the openmetadata/ingestion image of the server's version).` : ''));
  }
  // A version mismatch is raised while the workflow is created: its init error says it again.
  if (tail.initError && !(tail.versionMismatch && tail.initError.includes(tail.versionMismatch))) {
    parts.push(tail.initError);
    // Its cause is often logged just before (`CheckAccess-<why>` of a test connection).
    const cause = tail.errorLines().filter((l) => !l.includes('Error initializing') && !l.includes('Error loading'));
    parts.push(...cause.slice(-2));
  }
  if (summary) {
    parts.push(`summary: ${summaryLine(summary)}`);
    if (summary.failures.length > 0) {
      const shown = summary.failures.slice(0, 10);
      parts.push(`failures (${summary.failureCount}${summary.failureCount > shown.length ? `, first ${shown.length} shown` : ''}):`);
      for (const f of shown) parts.push(`- ${[f.from, f.entity].filter(Boolean).join(' ')}${f.from || f.entity ? ': ' : ''}${clip(mask(f.message), 300)}`);
    }
  }
  const tb = tail.tracebackTail();
  if (tb.length > 0 && !(tail.versionMismatch && tb.some((l) => l.includes(tail.versionMismatch!)) && tb.length <= 2)) parts.push(...tb);
  if (parts.length === 0) {
    const errs = tail.errorLines();
    parts.push(...(errs.length > 0 ? errs : tail.lastLines(10)));
  }
  // Masked before the cut (the tail's lines already are).
  return clip(mask([head, ...parts].join('\n')), MAX_MESSAGE);
}

/**
 * The warnings of a run that succeeded although its summary counted errors: first
 * `Workflow finished with failures` when the CLI said so (a partial success: its steps
 * stayed above the success threshold, so it exited 0).
 */
export function summaryWarnings(summary: WorkflowSummary | undefined, mask: (text: string) => string = (t) => t): string[] {
  if (!summary) return [];
  const out: string[] = [];
  if (summary.outcome === 'failures') out.push(`Workflow finished with failures (partial success: ${summary.successPct !== undefined ? `workflow ${summary.successPct}%, ` : ''}above the success threshold)`);
  for (const s of summary.steps) {
    if (s.errors) out.push(`${s.name}: ${s.errors} error${s.errors === 1 ? '' : 's'}${s.successPct !== undefined ? ` (success ${s.successPct}%)` : ''}`);
  }
  for (const f of summary.failures.slice(0, 10)) out.push(`${[f.from, f.entity].filter(Boolean).join(' ')}: ${clip(mask(f.message), 300)}`);
  return out.map(mask);
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
