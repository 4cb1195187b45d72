/**
 * Printing step logs (`runner logs`): one step's file as is, or every step's lines
 * prefixed by its key; with `follow`, keeps reading what is appended until the run
 * finishes. Files are read in chunks, never whole, so a 500 MB log costs no memory.
 */
import fs from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';

/** A step's log to print. */
export interface LogTarget {
  key: string;
  path: string;
}

/** How to print logs. */
export interface PrintLogsOptions {
  /** Prefix every line with `<key> | ` (used when printing several steps). */
  prefix: boolean;
  /** Keep reading until `finished()` says the run is over. */
  follow: boolean;
  /** Reads the run's state: true once the run is finished. Checked before each read, so the last read sees every line. */
  finished: () => boolean | Promise<boolean>;
  /** Writes output, resolving when it may write more (back-pressure). */
  write: (chunk: string | Uint8Array) => Promise<void>;
  /** Between reads while following (default 200 ms). */
  pollMs?: number;
  signal?: AbortSignal;
}

const CHUNK = 1024 * 1024;

interface State {
  target: LogTarget;
  offset: number;
  decoder: StringDecoder;
  partial: string;
}

/** Prints the targets' logs; resolves when done (at once without `follow`, else when the run ends). */
export async function printLogs(targets: LogTarget[], opts: PrintLogsOptions): Promise<void> {
  const states: State[] = targets.map((target) => ({ target, offset: 0, decoder: new StringDecoder('utf8'), partial: '' }));
  const buf = Buffer.allocUnsafe(CHUNK);
  for (;;) {
    const finished = !opts.follow || (await opts.finished());
    for (const s of states) await drain(s, buf, opts);
    if (finished || opts.signal?.aborted) break;
    try {
      await sleep(opts.pollMs ?? 200, undefined, { signal: opts.signal });
    } catch {
      break; // aborted
    }
  }
  if (opts.prefix) {
    for (const s of states) {
      const rest = s.partial + s.decoder.end();
      if (rest !== '') await opts.write(`${s.target.key} | ${rest}\n`);
      s.partial = '';
    }
  }
}

async function drain(s: State, buf: Buffer, opts: PrintLogsOptions): Promise<void> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(s.target.path, 'r');
  } catch {
    return; // not written yet (or never: a skipped step)
  }
  try {
    while (!opts.signal?.aborted) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, s.offset);
      if (bytesRead === 0) break;
      s.offset += bytesRead;
      const bytes = buf.subarray(0, bytesRead);
      if (!opts.prefix) {
        await opts.write(Buffer.from(bytes));
        continue;
      }
      const text = s.partial + s.decoder.write(bytes);
      const lines = text.split('\n');
      s.partial = lines.pop()!;
      if (lines.length > 0) await opts.write(lines.map((l) => `${s.target.key} | ${l}\n`).join(''));
    }
  } finally {
    await fh.close();
  }
}
