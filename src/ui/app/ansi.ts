/**
 * ANSI colours in logs: SGR sequences (`ESC[31m`, `ESC[1;33m`, 256 colours and true
 * colour) become styled pieces of text; every other escape sequence (cursor moves, line
 * erases, titles) is dropped. Incremental: a {@link AnsiParser} keeps the style across
 * chunks, so a growing log is parsed once.
 */

/** A piece of text in one style. */
export interface AnsiSegment {
  text: string;
  /** Classes: `ansi-fg-N`, `ansi-bg-N` (0-15), `ansi-bold`, `ansi-dim`, `ansi-italic`, `ansi-underline`. */
  cls: string;
  /** A 256-colour or true-colour foreground/background, as CSS colours. */
  fg?: string;
  bg?: string;
}

interface Style {
  fg?: number | string;
  bg?: number | string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

// The xterm 6x6x6 cube and grey ramp for colours 16-255.
function color256(n: number): string {
  if (n < 232) {
    const v = [0, 95, 135, 175, 215, 255];
    const i = n - 16;
    return `rgb(${v[Math.floor(i / 36)]},${v[Math.floor(i / 6) % 6]},${v[i % 6]})`;
  }
  const g = 8 + (n - 232) * 10;
  return `rgb(${g},${g},${g})`;
}

const ESCAPES = /\x1b(?:\[([0-9;:?]*)([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;

/** Parses chunks of text with ANSI sequences into styled segments. */
export class AnsiParser {
  private style: Style = {};

  /** The segments of `text`, in the style left by earlier chunks. */
  push(text: string): AnsiSegment[] {
    const out: AnsiSegment[] = [];
    let last = 0;
    ESCAPES.lastIndex = 0;
    for (let m = ESCAPES.exec(text); m; m = ESCAPES.exec(text)) {
      if (m.index > last) this.emit(out, text.slice(last, m.index));
      last = m.index + m[0].length;
      if (m[2] === 'm') this.apply(m[1] ?? '');
    }
    if (last < text.length) this.emit(out, text.slice(last));
    return out;
  }

  private emit(out: AnsiSegment[], text: string): void {
    const s = this.style;
    const cls: string[] = [];
    let fg: string | undefined;
    let bg: string | undefined;
    if (typeof s.fg === 'number') cls.push(`ansi-fg-${s.fg}`);
    else if (s.fg) fg = s.fg;
    if (typeof s.bg === 'number') cls.push(`ansi-bg-${s.bg}`);
    else if (s.bg) bg = s.bg;
    if (s.bold) cls.push('ansi-bold');
    if (s.dim) cls.push('ansi-dim');
    if (s.italic) cls.push('ansi-italic');
    if (s.underline) cls.push('ansi-underline');
    const seg: AnsiSegment = { text, cls: cls.join(' ') };
    if (fg) seg.fg = fg;
    if (bg) seg.bg = bg;
    const prev = out[out.length - 1];
    if (prev && prev.cls === seg.cls && prev.fg === seg.fg && prev.bg === seg.bg) prev.text += text;
    else out.push(seg);
  }

  private apply(params: string): void {
    const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i]!;
      if (c === 0) this.style = {};
      else if (c === 1) this.style.bold = true;
      else if (c === 2) this.style.dim = true;
      else if (c === 3) this.style.italic = true;
      else if (c === 4) this.style.underline = true;
      else if (c === 22) this.style.bold = this.style.dim = false;
      else if (c === 23) this.style.italic = false;
      else if (c === 24) this.style.underline = false;
      else if (c >= 30 && c <= 37) this.style.fg = c - 30;
      else if (c >= 90 && c <= 97) this.style.fg = c - 90 + 8;
      else if (c === 39) delete this.style.fg;
      else if (c >= 40 && c <= 47) this.style.bg = c - 40;
      else if (c >= 100 && c <= 107) this.style.bg = c - 100 + 8;
      else if (c === 49) delete this.style.bg;
      else if (c === 38 || c === 48) {
        const which = c === 38 ? 'fg' : 'bg';
        if (codes[i + 1] === 5 && codes[i + 2] !== undefined) {
          const n = codes[i + 2]!;
          this.style[which] = n < 16 ? n : color256(n);
          i += 2;
        } else if (codes[i + 1] === 2 && codes[i + 4] !== undefined) {
          this.style[which] = `rgb(${codes[i + 2]},${codes[i + 3]},${codes[i + 4]})`;
          i += 4;
        }
      }
    }
  }
}

/** `text` without any escape sequence (for filtering and copying). */
export function stripAnsi(text: string): string {
  return text.replace(ESCAPES, '');
}
