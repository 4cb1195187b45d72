/**
 * Reading a pipeline file's bytes as text, and the characters YAML does not allow in it.
 * The yaml library decodes nothing itself and accepts a raw NUL inside a scalar; Node's
 * UTF-8 decoding turns an invalid byte into U+FFFD without a word. Both would let a
 * broken file pass `runner check` with a value that is not what the file says.
 */
import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';

/** A file's text and, when its bytes are not valid UTF-8, the character offset of the first bad byte. */
export interface FileText {
  text: string;
  /** Where the first invalid byte is in `text` (it reads as U+FFFD there), and the byte. */
  invalidUtf8?: { offset: number; byte: number };
}

/** Reads a file as UTF-8, noting where it is not valid UTF-8. */
export function readFileText(abs: string): FileText {
  return decodeFileText(readFileSync(abs));
}

/** Decodes bytes as UTF-8, noting the first invalid byte. */
export function decodeFileText(bytes: Buffer): FileText {
  const text = bytes.toString('utf8');
  if (isUtf8(bytes)) return { text };
  const at = firstInvalidByte(bytes);
  // The bytes before it are valid, so they decode to exactly the text before it.
  return { text, invalidUtf8: { offset: bytes.subarray(0, at).toString('utf8').length, byte: bytes[at]! } };
}

/** A problem with the characters of a file: its offset in the text and a message. */
export interface TextProblem {
  offset: number;
  message: string;
}

/** Control characters YAML's printable set excludes (tab, LF and CR are allowed). */
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/;

/** The first invalid byte or forbidden character of a file's text, as a problem to report. */
export function textProblem(t: FileText): TextProblem | undefined {
  if (t.invalidUtf8) {
    const hex = t.invalidUtf8.byte.toString(16).toUpperCase().padStart(2, '0');
    return { offset: t.invalidUtf8.offset, message: `the file is not valid UTF-8: byte 0x${hex} here does not start or continue a UTF-8 character (save the file as UTF-8)` };
  }
  const m = FORBIDDEN.exec(t.text);
  if (!m) return undefined;
  const code = m[0].charCodeAt(0);
  const name = code === 0 ? 'a NUL byte (U+0000)' : `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return { offset: m.index, message: `${name} is not allowed in a YAML file: write it as an escape (\`"\\x${code.toString(16).padStart(2, '0')}"\`) inside a double-quoted string` };
}

/** The index of the first byte that is not part of a valid UTF-8 sequence (bytes known to be invalid). */
function firstInvalidByte(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > b.length) return i;
    for (let k = 1; k < n; k++) {
      const x = b[i + k]!;
      const lo = k === 1 && c === 0xe0 ? 0xa0 : k === 1 && c === 0xf0 ? 0x90 : 0x80;
      const hi = k === 1 && c === 0xed ? 0x9f : k === 1 && c === 0xf4 ? 0x8f : 0xbf;
      if (x < lo || x > hi) return i;
    }
    i += n;
  }
  return b.length - 1;
}
