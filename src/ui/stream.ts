/**
 * Live run pages: server-sent events for one run. The stream sends the run (event `run`)
 * whenever it changes and, for the step named by `?key=`, what its log file gains (event
 * `log`, whole lines only), until the run has finished and the log is read to its end
 * (event `end`; for a failed run, once its alert's outcome is recorded, or 10 s after it
 * ended); `ping` every 15 s, `problem` when it cannot go on. It polls the store and
 * the log file, so runs of other processes on the same RUNNER_HOME (a `runner materialize`
 * in a terminal) stream too. A long log starts with its last 256 KiB.
 */
import fs from 'node:fs/promises';
import type http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { isFinished } from '../storage/types.js';
import type { Store } from '../storage/store.js';

/** How much of an existing log the stream starts with, and the most it sends per read. */
export const LOG_WINDOW = 256 * 1024;
/** How long after a failed run ended its stream waits for the alert's outcome. */
const ALERT_WAIT_MS = 10_000;
/** A line longer than this is sent in pieces (no newline came yet). */
const MAX_HELD = 64 * 1024;

/** Options of one stream. */
export interface RunStreamOptions {
  store: Store;
  runId: string;
  /** The step whose log to follow, if any. */
  key?: string;
  /** Masks text before it leaves (the response masker). */
  mask: (text: string) => string;
  /** Between looks at the store and the file (default 250 ms). */
  pollMs?: number;
}

/** The open streams of one serve process, so shutdown can end them. */
export class RunStreams {
  private readonly open = new Set<http.ServerResponse>();
  private closing = false;

  /** Whether new streams are refused (serve is shutting down). */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Streams a run to `res` until it ends, the client leaves or {@link closeAll}. */
  async serve(req: http.IncomingMessage, res: http.ServerResponse, opts: RunStreamOptions, headers: Record<string, string>): Promise<void> {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    this.open.add(res);
    let gone = false;
    const stop = (): void => {
      gone = true;
    };
    req.on('close', stop);
    res.on('close', stop);
    const send = (event: string, data: unknown): void => {
      if (!gone) res.write(`event: ${event}\ndata: ${opts.mask(JSON.stringify(data))}\n\n`);
    };
    try {
      res.write('retry: 2000\n\n');
      await follow(opts, send, () => gone || this.closing);
    } catch (err) {
      send('problem', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.open.delete(res);
      req.off('close', stop);
      if (!res.writableEnded) res.end();
    }
  }

  /** Ends every stream and refuses new ones (shutdown: the HTTP server can then close). */
  closeAll(): void {
    this.closing = true;
    for (const res of this.open) res.end();
    this.open.clear();
  }
}

interface Tail {
  path: string;
  offset: number;
  decoder: StringDecoder;
  held: string;
  started: boolean;
  buf?: Buffer;
}

async function follow(opts: RunStreamOptions, send: (event: string, data: unknown) => void, stopped: () => boolean): Promise<void> {
  const pollMs = opts.pollMs ?? 250;
  let last = '';
  let tail: Tail | undefined;
  let lastPing = Date.now();
  for (;;) {
    if (stopped()) return;
    const run = opts.store.getRun(opts.runId);
    if (!run) {
      send('problem', { error: `no run has id \`${opts.runId}\`` });
      return;
    }
    const text = JSON.stringify(run);
    if (text !== last) {
      last = text;
      send('run', run);
    }
    const step = opts.key !== undefined ? run.steps.find((s) => s.key === opts.key) : undefined;
    if (step && !tail) tail = { path: step.log, offset: 0, decoder: new StringDecoder('utf8'), held: '', started: false };
    const finished = isFinished(run.status);
    const stepDone = !step || ['success', 'failure', 'skipped', 'canceled'].includes(step.status);
    let more = false;
    if (tail && step) more = await readTail(tail, step.key, finished || stepDone, send);
    // A failed run's alert is recorded just after it finishes: wait a little for it, so the page can say whether it went out.
    const alertDue = run.status === 'failure' && run.alert === null && run.ended_at !== null && Date.now() - Date.parse(run.ended_at) < ALERT_WAIT_MS;
    if (finished && !more && !alertDue) {
      send('end', { status: run.status });
      return;
    }
    if (Date.now() - lastPing > 15_000) {
      lastPing = Date.now();
      send('ping', {});
    }
    if (!more) await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Sends what the log gained; true when there may be more to read right away. */
async function readTail(t: Tail, key: string, flushAll: boolean, send: (event: string, data: unknown) => void): Promise<boolean> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(t.path, 'r');
  } catch {
    return false; // not written yet, or never (a skipped step)
  }
  try {
    let truncated = false;
    if (!t.started) {
      t.started = true;
      const size = (await fh.stat()).size;
      if (size > LOG_WINDOW) {
        // Start at a line boundary inside the window.
        t.offset = size - LOG_WINDOW;
        truncated = true;
      }
    }
    const buf = (t.buf ??= Buffer.allocUnsafe(LOG_WINDOW));
    const { bytesRead } = await fh.read(buf, 0, buf.length, t.offset);
    t.offset += bytesRead;
    let text = t.held + t.decoder.write(buf.subarray(0, bytesRead));
    if (truncated) {
      const nl = text.indexOf('\n');
      text = nl >= 0 ? text.slice(nl + 1) : text;
    }
    // Whole lines only (a secret cut in two would escape the masker), unless the step is over.
    const cut = text.lastIndexOf('\n');
    if (flushAll && bytesRead < buf.length) {
      t.held = '';
    } else if (cut >= 0) {
      t.held = text.slice(cut + 1);
      text = text.slice(0, cut + 1);
    } else if (text.length > MAX_HELD) {
      t.held = '';
    } else {
      t.held = text;
      text = '';
    }
    if (text !== '' || truncated) send('log', { key, text, ...(truncated ? { truncated: true } : {}) });
    return bytesRead === buf.length;
  } finally {
    await fh.close();
  }
}
