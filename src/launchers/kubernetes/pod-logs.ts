/**
 * A pod's log, streamed live into the step log. Follow streams drop (the API server or a
 * proxy closes an idle one; the kubelet rotates the file): the follower reconnects with
 * `sinceTime` and, because every line carries its timestamp (`timestamps=true`) and
 * `sinceTime` has whole-second precision, it skips what it already passed on: lines older
 * than the last one seen, and as many lines of that very timestamp as it saw. A piece of
 * a line at the end of a dropped stream is held back; the next stream sends it whole.
 * Re-attaching after a restart starts the same way, from the last line the step log's
 * index says was recorded ({@link ResumePoint}).
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeClients } from './client.js';
import { sleep } from './client.js';
import { CONTAINER } from './names.js';

/** A timestamp as an order-preserving key (`2024-01-02T03:04:05.000000001`). */
export function timeKey(ts: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(ts);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}` : undefined;
}

/** The whole second of a timestamp, as `sinceTime` takes it. */
function wholeSecond(ts: string): string {
  return `${ts.slice(0, 19)}Z`;
}

/** Where a log was left: the timestamp of the last line passed on, and how many lines carried it. */
export interface ResumePoint {
  time: string;
  count: number;
}

/** Passes each line of a pod's log on once, across reconnects (and restarts, from a {@link ResumePoint}). */
export class LineDeduper {
  private lastKey?: string;
  private lastTs?: string;
  private atLast = 0;
  private skipAtLast = 0;

  constructor(
    private readonly emit: (line: string, time?: string) => void,
    from?: ResumePoint,
  ) {
    const key = from ? timeKey(from.time) : undefined;
    if (from && key) {
      this.lastKey = key;
      this.lastTs = from.time;
      this.atLast = from.count;
    }
  }

  /** Where a new stream should start (`sinceTime`), undefined for the beginning. */
  resumeFrom(): string | undefined {
    this.skipAtLast = this.atLast;
    return this.lastTs ? wholeSecond(this.lastTs) : undefined;
  }

  /** One `<timestamp> <text>` line of a stream. */
  push(raw: string): void {
    const sp = raw.indexOf(' ');
    const ts = sp > 0 ? raw.slice(0, sp) : raw;
    const key = timeKey(ts);
    if (!key) {
      this.emit(raw); // not a timestamped line: pass it on as it is
      return;
    }
    const text = sp > 0 ? raw.slice(sp + 1) : '';
    if (this.lastKey !== undefined && key < this.lastKey) return;
    if (key === this.lastKey) {
      if (this.skipAtLast > 0) {
        this.skipAtLast--;
        return;
      }
      this.atLast++;
    } else {
      this.lastKey = key;
      this.lastTs = ts;
      this.atLast = 1;
      this.skipAtLast = 0;
    }
    this.emit(text, ts);
  }
}

/** Follows one pod's log until {@link finish} is called and the final read is done. */
export class PodLogFollower {
  private readonly dedupe: LineDeduper;
  private ended = false;
  private stopped = false;
  private controller?: AbortController;
  private running?: Promise<void>;
  private wake?: () => void;
  /** How many streams were opened (for tests and logs). */
  streams = 0;

  constructor(
    private readonly k: KubeClients,
    private readonly pod: string,
    emit: (line: string, time?: string) => void,
    private readonly reconnectMs = 1_000,
    from?: ResumePoint,
  ) {
    this.dedupe = new LineDeduper(emit, from);
  }

  /** Starts following (idempotent). */
  start(): void {
    this.running ??= this.loop();
  }

  /** The pod's container ended: read what is left, then stop. Resolves when done. */
  async finish(): Promise<void> {
    this.ended = true;
    this.wake?.();
    this.start();
    await this.running;
  }

  /** Stops at once (cancel): no final read. */
  stop(): void {
    this.stopped = true;
    this.controller?.abort();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const final = this.ended;
      const ok = await this.stream(!final);
      if (final || this.stopped) return;
      failures = ok ? 0 : failures + 1;
      // A stream that ended while the container runs was dropped: reconnect.
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        void sleep(ok ? Math.min(this.reconnectMs, 200) : Math.min(this.reconnectMs * 2 ** Math.min(failures, 4), 10_000)).then(resolve);
      });
      this.wake = undefined;
    }
  }

  /** One log request; false when it could not be opened. */
  private async stream(follow: boolean): Promise<boolean> {
    const sinceTime = this.dedupe.resumeFrom();
    this.streams++;
    const query = new URLSearchParams({ container: CONTAINER, follow: String(follow), timestamps: 'true' });
    if (sinceTime) query.set('sinceTime', sinceTime);
    let buf = '';
    const r = await openStream(this.k, `/api/v1/namespaces/${encodeURIComponent(this.k.namespace)}/pods/${encodeURIComponent(this.pod)}/log?${query}`, (chunk) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.dedupe.push(buf.slice(0, nl).replace(/\r$/, ''));
        buf = buf.slice(nl + 1);
      }
    }, (abort) => {
      this.controller = abort;
      if (this.stopped) abort.abort();
    });
    // 404: the pod is gone, nothing more to read.
    if (r.status === 404 && !follow) return true;
    if (r.status !== 200) return false;
    // Only the final read of an ended container passes on a last line without a newline.
    if (!follow && r.complete && buf !== '') this.dedupe.push(buf);
    return true;
  }
}

/**
 * A streaming GET with the kubeconfig's credentials (client-node's `applyToHTTPSOptions`).
 * Resolves when the response ends, is dropped, or fails; `complete` says it ended whole.
 * (client-node's `Log` pipes the body and never ends its target when the connection drops.)
 */
export async function openStream(k: KubeClients, path: string, onChunk: (text: string) => void, onOpen: (abort: AbortController) => void): Promise<{ status: number; complete: boolean }> {
  const opts: https.RequestOptions = {};
  await k.config.applyToHTTPSOptions(opts);
  const server = k.config.getCurrentCluster()!.server.replace(/\/+$/, '');
  const url = new URL(server + path);
  const abort = new AbortController();
  onOpen(abort);
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number, complete: boolean) => {
      if (!settled) {
        settled = true;
        resolve({ status, complete });
      }
    };
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, { ...opts, method: 'GET', signal: abort.signal, headers: { ...(opts.headers ?? {}), accept: '*/*' } }, (res) => {
      const status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      if (status !== 200) {
        res.resume();
        res.once('end', () => done(status, true));
        res.once('close', () => done(status, false));
        return;
      }
      res.on('data', (c: string) => onChunk(c));
      res.once('end', () => done(200, true));
      res.once('aborted', () => done(200, false));
      res.once('error', () => done(200, false));
      res.once('close', () => done(200, res.complete));
    });
    req.once('error', () => done(0, false));
    req.end();
  });
}
