/**
 * Step log files: `<home>/logs/<run-id>/<key with / replaced by __>.log`, one line of
 * output per line of file. Appends are buffered per file and written on the store's flush
 * (or when a file's buffer passes a threshold), so a step printing hundreds of megabytes
 * costs a write per 256 KiB, not per line, and memory stays bounded.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The file name of a step's log: its key with `/` replaced by `__`. */
export function logFileName(key: string): string {
  return key.replaceAll('/', '__') + '.log';
}

/** The directory holding a run's step logs. */
export function runLogDir(home: string, runId: string): string {
  return path.join(home, 'logs', runId);
}

/** The absolute path of a step's log file. */
export function stepLogPath(home: string, runId: string, key: string): string {
  return path.join(runLogDir(home, runId), logFileName(key));
}

const WRITE_THRESHOLD = 256 * 1024;

/**
 * Beside each log, `<file>.idx` says when its lines came and on which stream: one record
 * `LINE MS STREAM\n` (0-based line number, epoch milliseconds) whenever the stream changes
 * or at least {@link INDEX_EVERY_MS} passed; a line without a record of its own has the
 * time and stream of the record before it. The web UI's merged log of all steps reads it.
 * A line whose source stamped it (a pod's log line, RFC 3339 with nanoseconds) has a record
 * of its own, `LINE MS STREAM SOURCE_TIME\n`: where a re-attached follower resumes
 * ({@link lastSourceTime}). The index is written after the log's bytes, so a runner killed
 * between the two leaves the index behind the file (lines repeated on resume, none lost).
 */
export const LINE_INDEX_SUFFIX = '.idx';
const INDEX_EVERY_MS = 100;

interface OpenLog {
  fd: number | undefined;
  chunks: string[];
  bytes: number;
  /** The stream whose last piece had no newline after it (its line goes on), if any. */
  open: string | undefined;
  /** Lines begun since this entry was made (the file may already hold `base` lines). */
  lines: number;
  base: number | undefined;
  /** Line index records not written yet: line (relative to `base`), time, stream, the source's time. */
  idx: Array<[number, number, string, string?]>;
  lastTs: number;
  lastStream: string | undefined;
}

/** Buffered appends to step log files, keyed by path. */
export class LogWriter {
  private readonly files = new Map<string, OpenLog>();
  private readonly dirs = new Set<string>();
  /** The first write error, reported once by the store. */
  error: Error | undefined;

  /**
   * Queues a line for the file, followed by a newline unless `partial` (a piece of a long
   * line, or output that ended without a newline): the next piece of the same stream
   * continues it, so the file holds the output byte for byte. A line of the other stream
   * arriving meanwhile starts on a line of its own.
   */
  append(file: string, line: string, partial = false, stream = 'stdout', sourceTime?: string): void {
    let f = this.files.get(file);
    if (!f) {
      f = { fd: undefined, chunks: [], bytes: 0, open: undefined, lines: 0, base: undefined, idx: [], lastTs: 0, lastStream: undefined };
      this.files.set(file, f);
    }
    if (f.open !== undefined && f.open !== stream) f.lines++;
    if (f.open !== stream) {
      // This piece begins a line.
      const now = Date.now();
      const stamped = sourceTime !== undefined && !/\s/.test(sourceTime);
      if (stamped || stream !== f.lastStream || now - f.lastTs >= INDEX_EVERY_MS) {
        f.idx.push(stamped ? [f.lines, now, stream, sourceTime] : [f.lines, now, stream]);
        f.lastTs = now;
        f.lastStream = stream;
      }
    }
    if (!partial) f.lines++;
    const text = (f.open !== undefined && f.open !== stream ? '\n' : '') + line + (partial ? '' : '\n');
    f.open = partial ? stream : undefined;
    f.chunks.push(text);
    f.bytes += text.length;
    if (f.bytes >= WRITE_THRESHOLD) this.write(file, f);
  }

  /** True when some file has buffered bytes. */
  get pending(): boolean {
    for (const f of this.files.values()) if (f.bytes > 0) return true;
    return false;
  }

  /** Writes every buffered line. */
  flush(): void {
    for (const [file, f] of this.files) if (f.bytes > 0) this.write(file, f);
  }

  /** Writes and closes one file (a finished step's); a later line reopens it. */
  finish(file: string): void {
    const f = this.files.get(file);
    if (!f) return;
    if (f.bytes > 0) this.write(file, f);
    this.closeFile(file, f);
  }

  /** Writes and closes the files under `dir` (a finished run's). */
  closeUnder(dir: string): void {
    const prefix = dir + path.sep;
    for (const [file, f] of this.files) {
      if (!file.startsWith(prefix)) continue;
      if (f.bytes > 0) this.write(file, f);
      this.closeFile(file, f);
    }
    this.dirs.delete(dir);
  }

  /** Writes and closes everything. */
  close(): void {
    for (const [file, f] of this.files) {
      if (f.bytes > 0) this.write(file, f);
      this.closeFile(file, f);
    }
    this.dirs.clear();
  }

  private closeFile(file: string, f: OpenLog): void {
    if (f.fd !== undefined) {
      try {
        fs.closeSync(f.fd);
      } catch {
        /* already closed */
      }
    }
    this.files.delete(file);
  }

  private write(file: string, f: OpenLog): void {
    const data = f.chunks.length === 1 ? f.chunks[0]! : f.chunks.join('');
    f.chunks = [];
    f.bytes = 0;
    try {
      if (f.fd === undefined) {
        const dir = path.dirname(file);
        if (!this.dirs.has(dir)) {
          fs.mkdirSync(dir, { recursive: true });
          this.dirs.add(dir);
        }
        f.fd = fs.openSync(file, 'a', 0o600);
      }
      const buf = Buffer.from(data, 'utf8');
      let off = 0;
      while (off < buf.length) off += fs.writeSync(f.fd, buf, off, buf.length - off);
      if (f.idx.length > 0) {
        // A file reopened after its step finished already holds lines: number on from them.
        f.base ??= fs.existsSync(file + LINE_INDEX_SUFFIX) ? countLines(file, buf.length) : 0;
        const base = f.base;
        fs.appendFileSync(file + LINE_INDEX_SUFFIX, f.idx.map(([l, t, st, src]) => `${base + l} ${t} ${st}${src === undefined ? '' : ` ${src}`}\n`).join(''), { mode: 0o600 });
        f.idx = [];
      }
    } catch (err) {
      this.error ??= err as Error;
    }
  }
}

/** The newlines of `file` before its last `tail` bytes (what was there before this entry's first write). */
function countLines(file: string, tail: number): number {
  const data = fs.readFileSync(file);
  let n = 0;
  for (let i = 0; i < data.length - tail; i++) if (data[i] === 10) n++;
  return n;
}

/**
 * The source time of the last line of `file` that had one (its index's last
 * `SOURCE_TIME` record) and how many of its lines carry that very time, or undefined when
 * none did (or there is no index).
 */
export function lastSourceTime(file: string): { time: string; count: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file + LINE_INDEX_SUFFIX, 'utf8');
  } catch {
    return undefined;
  }
  let time: string | undefined;
  let count = 0;
  for (const rec of text.split('\n')) {
    const src = rec.split(' ')[3];
    if (src === undefined || src === '') continue;
    if (src === time) count++;
    else {
      time = src;
      count = 1;
    }
  }
  return time === undefined ? undefined : { time, count };
}
