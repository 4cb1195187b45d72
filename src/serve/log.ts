/**
 * The daemon's log: human lines by default (`2024-05-01T02:00:00.004Z info  tick ...`),
 * or one JSON object a line with `--log-format json` for log collectors
 * (`{"ts","level","msg",...fields}`). Lines go to one stream (stdout by default), written
 * synchronously so nothing is lost when the process exits.
 */

/** Severity, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** How lines are written. */
export type LogFormat = 'human' | 'json';

/** Structured context of a log line (schedule, run_id, tick, ...). */
export type LogFields = Record<string, string | number | boolean | null | undefined | string[]>;

/** What the scheduler and the server log through. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Options of `createLogger`. */
export interface LoggerOptions {
  format: LogFormat;
  /** Lines below this level are dropped (default `info`; RUNNER_LOG_LEVEL=debug shows all). */
  level?: LogLevel;
  /** Where lines go (default: process.stdout). */
  write?: (line: string) => void;
  /** The clock (tests). */
  now?: () => Date;
}

function humanValue(v: unknown): string {
  const s = Array.isArray(v) ? v.join(',') : String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

/** One line in the chosen format, without the newline. */
export function formatLogLine(format: LogFormat, ts: Date, level: LogLevel, msg: string, fields: LogFields = {}): string {
  const defined = Object.entries(fields).filter(([, v]) => v !== undefined);
  if (format === 'json') return JSON.stringify({ ts: ts.toISOString(), level, msg, ...Object.fromEntries(defined) });
  const tail = defined.map(([k, v]) => `${k}=${humanValue(v)}`).join(' ');
  return `${ts.toISOString()} ${level.padEnd(5)} ${msg}${tail ? ' ' + tail : ''}`;
}

/** A logger writing lines in `format`. */
export function createLogger(opts: LoggerOptions): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const now = opts.now ?? (() => new Date());
  const at =
    (level: LogLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (ORDER[level] < min) return;
      // Multi-line messages (diagnostics) stay one record in JSON; in human form each line is indented.
      const text = opts.format === 'human' ? msg.replaceAll('\n', '\n    ') : msg;
      write(formatLogLine(opts.format, now(), level, text, fields) + '\n');
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The level named by RUNNER_LOG_LEVEL, if valid. */
export function levelFromEnv(value: string | undefined): LogLevel | undefined {
  return value === 'debug' || value === 'info' || value === 'warn' || value === 'error' ? value : undefined;
}
