/**
 * Parsing what the `metadata` CLI prints at the end of a workflow, as
 * `metadata/workflow/workflow_output_handler.py` of openmetadata-ingestion 1.7 and 2.0
 * prints it (docs/openmetadata.md, "What the CLI prints"): per step `Workflow <Step> Summary:`
 * with processed/updated records, warnings, (filtered,) errors and success %, then the
 * failures table (`List of failures:`, or `Showing only the first 100 failures:` (1.7) /
 * `Showing the first 10 failures:` (2.0) above a longer one), `Workflow Success %`,
 * `Workflow finished in time: ...` and, when any step had a failure, `Workflow finished
 * with failures` (also when the run stays above its success threshold and exits 0); and the
 * older `Source: Processed N records, filtered N records, found N errors` form. Every line
 * goes through `log_ansi_encoded_string`: the `metadata.Utils` log prefix, ANSI codes before
 * the message and `ESC[0m` after it. The parser streams: its memory does not grow with the
 * output.
 */

/** One step of the closing summary. */
export interface StepSummary {
  name: string;
  processed?: number;
  updated?: number;
  warnings?: number;
  filtered?: number;
  errors?: number;
  successPct?: number;
}

/** One row of the CLI's failures table. */
export interface FailureRow {
  from?: string;
  entity?: string;
  message: string;
}

/** The last closing summary the CLI printed. */
export interface WorkflowSummary {
  /** `current` (1.x, `Workflow X Summary:`) or `legacy` (`Source: Processed ...`). */
  form: 'current' | 'legacy';
  steps: StepSummary[];
  successPct?: number;
  /** As printed, e.g. `13.0h 24.0m 2.22s`. */
  duration?: string;
  durationMs?: number;
  /** The listed failures (at most {@link MAX_FAILURE_ROWS}). */
  failures: FailureRow[];
  /** How many failure rows the table had. */
  failureCount: number;
  /** `Workflow finished with failures|warnings` / `successfully`. */
  outcome?: 'failures' | 'warnings' | 'success';
}

/** The most failure rows kept. */
export const MAX_FAILURE_ROWS = 100;
const MAX_CELL = 1000;

// `[2024-10-15 15:28:50] INFO     {metadata.Utils:logger:181} - msg` and Airflow's
// `[2025-09-09T07:19:56.969+0000] {logger.py:201} INFO - msg`.
const PREFIX = /^\[[^\]]{8,40}\]\s+(?:([A-Z]+)\s+)?(?:\{[^}]*\}\s+)?(?:([A-Z]+)\s+)?-\s?/;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** A line without ANSI codes and log prefix, and the log level if it had one. */
export function stripLine(line: string): { message: string; level?: string; prefixed: boolean } {
  const clean = line.includes('\x1b') ? line.replace(ANSI, '') : line;
  const m = PREFIX.exec(clean);
  if (!m) return { message: clean.replace(/\r$/, ''), prefixed: false };
  return { message: clean.slice(m[0].length).replace(/\r$/, ''), level: m[1] ?? m[2], prefixed: true };
}

/** Milliseconds of a duration printed by the CLI (`13.0h 24.0m 2.22s`, `4s 990.188ms`). */
export function parseCliDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)(?![a-z])/g;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let any = false;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]!]!;
    any = true;
  }
  return any ? Math.round(total) : undefined;
}

const num = (s: string) => Number(s);
// `List of failures:`; above a longer table `Showing only the first 100 failures:` (1.7) or
// `Showing the first 10 failures:` (2.0).
const FAILURES_HEADER = /^(?:List of failures:|Showing (?:only )?the first \d+ failures:)$/;

/** Reads the CLI's output line by line and keeps the last closing summary. */
export class SummaryParser {
  private cur?: WorkflowSummary;
  private last?: WorkflowSummary;
  private step?: StepSummary;
  private table?: TableReader;

  /** Feeds one line of output (stdout or stderr). */
  push(line: string): void {
    const { message, prefixed } = stripLine(line);
    if (this.table) {
      if (!prefixed && /^\s*[+|]/.test(message)) return this.table.push(message.trim());
      if (prefixed && message.trim() === '' && !this.table.started) return;
      this.endTable();
    }
    const msg = message.trim();
    if (msg === '') return;
    let m: RegExpExecArray | null;
    if ((m = /^Workflow (.+) Summary:$/.exec(msg))) {
      if (!this.cur || this.cur.form !== 'current' || this.cur.successPct !== undefined || this.cur.duration !== undefined) this.begin('current');
      this.step = { name: m[1]! };
      this.cur!.steps.push(this.step);
      return;
    }
    if ((m = /^Workflow Success %:\s*([\d.]+)/.exec(msg))) return this.set('successPct', num(m[1]!));
    if ((m = /^Workflow finished in time:?\s*(.+?)\s*$/.exec(msg))) {
      if (!this.cur) this.begin('current');
      this.cur!.duration = m[1]!;
      this.cur!.durationMs = parseCliDuration(m[1]!);
      return;
    }
    if ((m = /^Workflow finished (with failures|with warnings|successfully)/.exec(msg))) {
      if (this.cur) this.cur.outcome = m[1] === 'with failures' ? 'failures' : m[1] === 'with warnings' ? 'warnings' : 'success';
      return;
    }
    if (FAILURES_HEADER.test(msg)) {
      if (this.cur) this.table = new TableReader(this.cur);
      return;
    }
    if ((m = /^Source: Processed (\d+) records, filtered (\d+) records, found (\d+) errors/.exec(msg))) {
      return this.legacy({ name: 'Source', processed: num(m[1]!), filtered: num(m[2]!), errors: num(m[3]!) });
    }
    if ((m = /^Sink: Processed (\d+) records, found (\d+) errors/.exec(msg))) {
      return this.legacy({ name: 'Sink', processed: num(m[1]!), errors: num(m[2]!) });
    }
    if ((m = /^Success % ?:\s*([\d.]+)/.exec(msg))) {
      if (this.step && this.step.successPct === undefined && this.cur?.form === 'current') this.step.successPct = num(m[1]!);
      else this.set('successPct', num(m[1]!));
      return;
    }
    if (!this.step) return;
    if ((m = /^Processed records:\s*(\d+)/.exec(msg))) this.step.processed = num(m[1]!);
    else if ((m = /^Updated records:\s*(\d+)/.exec(msg))) this.step.updated = num(m[1]!);
    else if ((m = /^Warnings:\s*(\d+)/.exec(msg))) this.step.warnings = num(m[1]!);
    else if ((m = /^Filtered:\s*(\d+)/.exec(msg))) this.step.filtered = num(m[1]!);
    else if ((m = /^Errors:\s*(\d+)/.exec(msg))) this.step.errors = num(m[1]!);
  }

  /** The last summary printed, if any. */
  result(): WorkflowSummary | undefined {
    this.endTable();
    const s = this.cur && this.cur.steps.length > 0 ? this.cur : this.last ?? this.cur;
    if (!s || (s.steps.length === 0 && s.successPct === undefined)) return undefined;
    // 1.2–1.5 printed one `Success %` after all steps: it is the workflow's, not the last step's.
    if (s.form === 'current' && s.successPct === undefined && s.steps.length > 1) {
      const lastStep = s.steps[s.steps.length - 1]!;
      if (lastStep.successPct !== undefined && s.steps.slice(0, -1).every((x) => x.successPct === undefined)) {
        s.successPct = lastStep.successPct;
        delete lastStep.successPct;
      }
    }
    return s;
  }

  private begin(form: WorkflowSummary['form']): void {
    if (this.cur && this.cur.steps.length > 0) this.last = this.cur;
    this.cur = { form, steps: [], failures: [], failureCount: 0 };
    this.step = undefined;
  }

  private set(key: 'successPct', v: number): void {
    if (!this.cur) this.begin('current');
    this.cur![key] = v;
    this.step = undefined;
  }

  private legacy(step: StepSummary): void {
    if (!this.cur || this.cur.form !== 'legacy') this.begin('legacy');
    const i = this.cur!.steps.findIndex((s) => s.name === step.name);
    if (i >= 0) this.cur!.steps[i] = step;
    else this.cur!.steps.push(step);
    const total = this.cur!.steps.reduce((a, s) => a + (s.processed ?? 0), 0);
    const errors = this.cur!.steps.reduce((a, s) => a + (s.errors ?? 0), 0);
    this.cur!.successPct = Math.round((Math.max(total, 1) * 10000) / (Math.max(total, 1) + errors)) / 100;
    this.step = undefined;
  }

  private endTable(): void {
    if (!this.table) return;
    this.table.end();
    this.table = undefined;
  }
}

/**
 * Reads tabulate's `grid` table of failures (`From | Entity Name | Message | Stack Trace`)
 * row by row; column edges come from the `+---+` rule lines, so a `|` inside a cell is
 * harmless. Only the first {@link MAX_FAILURE_ROWS} rows are kept, stack traces are not.
 */
class TableReader {
  started = false;
  private edges?: number[];
  private header?: string[];
  private cells: string[] = [];
  private inHeader = true;

  constructor(private readonly into: WorkflowSummary) {}

  push(line: string): void {
    this.started = true;
    if (line.startsWith('+')) {
      const edges: number[] = [];
      for (let i = 0; i < line.length; i++) if (line[i] === '+') edges.push(i);
      this.edges ??= edges;
      this.flush();
      if (line.includes('=')) this.inHeader = false;
      return;
    }
    if (!this.edges) return;
    const e = this.edges;
    for (let c = 0; c + 1 < e.length; c++) {
      const text = line.slice(e[c]! + 1, e[c + 1]!).trim();
      if (!text) continue;
      const prev = this.cells[c] ?? '';
      if (prev.length < MAX_CELL) this.cells[c] = (prev ? `${prev} ${text}` : text).slice(0, MAX_CELL);
    }
  }

  end(): void {
    this.flush();
  }

  private flush(): void {
    if (this.cells.length === 0) return;
    const cells = this.cells;
    this.cells = [];
    if (this.inHeader || !this.header) {
      this.header = cells.map((c) => (c ?? '').toLowerCase());
      return;
    }
    this.into.failureCount++;
    if (this.into.failures.length >= MAX_FAILURE_ROWS) return;
    const col = (name: string) => {
      const i = this.header!.indexOf(name);
      return i >= 0 ? cells[i] : undefined;
    };
    const message = col('message') ?? col('error') ?? cells.filter(Boolean).join(' ');
    this.into.failures.push({ from: col('from'), entity: col('entity name'), message: message ?? '' });
  }
}

/** `Trino: 91 processed, 0 updated, 0 warnings, 27 errors, 70.33%` for each step, then the workflow's. */
export function summaryLine(s: WorkflowSummary): string {
  const steps = s.steps.map((st) => {
    const parts = [`${st.processed ?? 0} processed`];
    if (st.updated !== undefined) parts.push(`${st.updated} updated`);
    if (st.filtered) parts.push(`${st.filtered} filtered`);
    parts.push(`${st.warnings ?? 0} warnings`, `${st.errors ?? 0} errors`);
    if (st.successPct !== undefined) parts.push(`${st.successPct}%`);
    return `${st.name}: ${parts.join(', ')}`;
  });
  const tail = [s.successPct !== undefined ? `workflow ${s.successPct}%` : undefined, s.duration ? `in ${s.duration}` : undefined].filter(Boolean).join(' ');
  return [...steps, tail].filter(Boolean).join('; ');
}

/** The summary as step metadata (what `runner show` prints and storage keeps). */
export function summaryMetadata(s: WorkflowSummary): Record<string, unknown> {
  const steps = s.steps.map((st) => ({
    name: st.name,
    processed: st.processed ?? null,
    updated: st.updated ?? null,
    warnings: st.warnings ?? null,
    errors: st.errors ?? null,
    ...(st.filtered !== undefined ? { filtered: st.filtered } : {}),
    success_pct: st.successPct ?? null,
  }));
  const sum = (k: 'warnings' | 'errors') => s.steps.reduce((a, st) => a + (st[k] ?? 0), 0);
  return {
    steps,
    records_processed: s.steps[0]?.processed ?? null,
    warnings: sum('warnings'),
    errors: sum('errors'),
    workflow_success_pct: s.successPct ?? null,
    duration: s.duration ?? null,
    duration_ms: s.durationMs ?? null,
    failures_listed: s.failureCount,
    summary_form: s.form,
  };
}
