/** Minimal ANSI styling that honours NO_COLOR (https://no-color.org) and non-terminals. */

/** Styling functions; identity when color is off. */
export interface Style {
  enabled: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  cyan(s: string): string;
}

/** Whether to color output written to `stream`: a terminal, NO_COLOR unset (FORCE_COLOR forces it). */
export function useColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

const wrap = (on: boolean, open: number, close: number) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[${close}m` : s);

/** A Style, colored or not. */
export function style(enabled: boolean): Style {
  return {
    enabled,
    red: wrap(enabled, 31, 39),
    green: wrap(enabled, 32, 39),
    yellow: wrap(enabled, 33, 39),
    cyan: wrap(enabled, 36, 39),
    dim: wrap(enabled, 2, 22),
    bold: wrap(enabled, 1, 22),
  };
}

// ANSI escape sequences (CSI and OSC) a program may print; stripped from one-line views.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

/** Text without ANSI escapes. */
export function stripAnsi(s: string): string {
  return s.includes('\u001b') ? s.replace(ANSI, '') : s;
}

/** What a terminal would show of a line: after the last carriage return, no escapes, no trailing space. */
export function visibleLine(s: string): string {
  const t = stripAnsi(s).trimEnd();
  const cr = t.lastIndexOf('\r');
  return cr >= 0 ? t.slice(cr + 1) : t;
}

/** Buffers text and writes it in large pieces: one write per event-loop turn, or when it grows. */
export class BufferedWriter {
  private parts: string[] = [];
  private size = 0;
  private scheduled = false;

  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly limit = 64 * 1024,
  ) {}

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.limit) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.size === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    this.out.write(text);
  }
}
