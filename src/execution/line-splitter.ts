/**
 * Splits a child's output stream into lines with a bounded buffer. A line longer than
 * `maxLine` characters is handed on in pieces marked `partial` (no newline follows them),
 * so a 10 MB line, or 500 MB without any newline, never sits in memory whole, and the
 * step log can still be rebuilt byte for byte.
 */
import { StringDecoder } from 'node:string_decoder';

/** Receives one line (without its `\n`), or a piece of a longer line when `partial`. */
export type LineSink = (line: string, partial: boolean) => void;

/** The longest piece handed on at once (characters). */
export const MAX_LINE = 64 * 1024;

/** A UTF-8 stream split into lines; multi-byte characters split across chunks stay whole. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(
    private readonly sink: LineSink,
    private readonly maxLine = MAX_LINE,
  ) {}

  /** Feeds one chunk of output. */
  push(chunk: Buffer | string): void {
    const s = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (s.length === 0) return;
    let start = 0;
    for (;;) {
      const nl = s.indexOf('\n', start);
      if (nl < 0) break;
      if (this.pending.length > 0) {
        const line = this.pending + s.slice(start, nl);
        this.pending = '';
        this.sink(line, false);
      } else {
        this.sink(s.slice(start, nl), false);
      }
      start = nl + 1;
    }
    if (start < s.length) this.pending += start === 0 ? s : s.slice(start);
    while (this.pending.length >= this.maxLine) {
      let cut = this.maxLine;
      // Never split a surrogate pair: each piece must be valid text on its own.
      const c = this.pending.charCodeAt(cut - 1);
      if (c >= 0xd800 && c <= 0xdbff) cut = cut > 1 ? cut - 1 : 2;
      this.sink(this.pending.slice(0, cut), true);
      this.pending = this.pending.slice(cut);
    }
  }

  /** Hands on what is left at the end of the stream: a last line without a newline. */
  end(): void {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest.length > 0) this.sink(rest, true);
  }
}
