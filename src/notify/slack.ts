/**
 * Delivery of one message to a Slack incoming webhook (@slack/webhook), with a timeout per
 * attempt and retries with exponential backoff: network errors, timeouts and 5xx answers
 * are retried; a 429 waits as long as its `Retry-After` says; other 4xx answers (a broken
 * payload, a revoked webhook, an archived channel) are final. The webhook URL is a
 * credential: it never appears in an outcome (an answer that echoes it is masked with
 * `mask` before it is shortened).
 */
import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError, type FetchFunction } from '@slack/webhook';
import type { SlackMessage } from './message.js';

export interface DeliveryOptions {
  /** How long one attempt may take (default 10s). */
  timeoutMs?: number;
  /** Attempts in all, the first included (default 4). */
  attempts?: number;
  /** The first backoff delay (default 1s), doubled each retry. */
  baseDelayMs?: number;
  /** The longest backoff delay (default 30s). */
  maxDelayMs?: number;
  /** A `Retry-After` longer than this gives up instead of waiting (default 120s). */
  maxRetryAfterMs?: number;
  /** Waits between attempts (tests pass a recorder); rejects when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops retrying (e.g. serve shutting down). */
  signal?: AbortSignal;
  /**
   * Masks the text of Slack's (or a proxy's) answer before it is cut to length and put in
   * the detail (the notifier passes its masker, which knows the webhook URL).
   */
  mask?: (text: string) => string;
}

/** What happened to one delivery. `detail` never holds the webhook URL. */
export interface DeliveryResult {
  status: 'sent' | 'failed';
  detail: string;
  attempts: number;
}

const DEFAULTS = { timeoutMs: 10_000, attempts: 4, baseDelayMs: 1000, maxDelayMs: 30_000, maxRetryAfterMs: 120_000 };

/** Sends `message` to the webhook at `url`, retrying as described above. */
export async function sendToSlack(url: string, message: SlackMessage, opts: DeliveryOptions = {}): Promise<DeliveryResult> {
  const o = { ...DEFAULTS, ...definedOnly(opts) };
  const sleep = opts.sleep ?? defaultSleep;
  if (!isHttpUrl(url)) return { status: 'failed', detail: 'the Slack webhook is not an http(s) URL', attempts: 0 };
  let retryAfter: string | null = null;
  // Wraps fetch to see the Retry-After header, which @slack/webhook does not expose.
  const fetchFn: FetchFunction = async (u, init) => {
    const res = await fetch(u, init as RequestInit);
    retryAfter = res.headers.get('retry-after');
    return res;
  };
  const hook = new IncomingWebhook(url, { timeout: o.timeoutMs, retryConfig: { retries: 0 }, fetch: fetchFn });
  let last = '';
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    retryAfter = null;
    let waitMs: number | undefined;
    try {
      await hook.send({ text: message.text, blocks: message.blocks as never });
      return { status: 'sent', detail: attempt > 1 ? `sent to Slack (attempt ${attempt})` : 'sent to Slack', attempts: attempt };
    } catch (err) {
      const http = httpErrorOf(err);
      if (http) {
        last = `Slack answered ${http.statusCode}${http.body ? ` ${oneLine((opts.mask ?? String)(http.body))}` : ''}`;
        if (http.statusCode === 429) {
          const ms = parseRetryAfter(retryAfter);
          if (ms !== undefined && ms > o.maxRetryAfterMs) {
            return { status: 'failed', detail: `${last}; it asked to retry after ${Math.round(ms / 1000)}s, longer than the runner waits`, attempts: attempt };
          }
          waitMs = ms ?? backoff(attempt, o.baseDelayMs, o.maxDelayMs);
        } else if (http.statusCode < 500) {
          return { status: 'failed', detail: last, attempts: attempt };
        }
      } else {
        last = requestFailure(err, o.timeoutMs);
      }
    }
    if (attempt === o.attempts) break;
    try {
      await sleep(waitMs ?? backoff(attempt, o.baseDelayMs, o.maxDelayMs), opts.signal);
    } catch {
      return { status: 'failed', detail: `${last}; stopped retrying (canceled)`, attempts: attempt };
    }
    if (opts.signal?.aborted) return { status: 'failed', detail: `${last}; stopped retrying (canceled)`, attempts: attempt };
  }
  return { status: 'failed', detail: `${last}; gave up after ${o.attempts} attempt${o.attempts === 1 ? '' : 's'}`, attempts: o.attempts };
}

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), if it says. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function backoff(attempt: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** (attempt - 1));
}

function httpErrorOf(err: unknown): { statusCode: number; body: string } | undefined {
  if (err instanceof IncomingWebhookHTTPError) return { statusCode: err.statusCode, body: err.body };
  const e = err as { original?: unknown; cause?: unknown };
  // p-retry wraps final errors of its AbortError in `original`/`cause` depending on version.
  for (const inner of [e?.original, e?.cause]) if (inner instanceof IncomingWebhookHTTPError) return { statusCode: inner.statusCode, body: inner.body };
  return undefined;
}

/** A description of a failed request from its error code, never its URL. */
function requestFailure(err: unknown, timeoutMs: number): string {
  const original = err instanceof IncomingWebhookRequestError ? err.original : err;
  const o = original as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (o?.name === 'TimeoutError' || o?.name === 'AbortError' || o?.cause?.name === 'TimeoutError') return `Slack did not answer within ${Math.round(timeoutMs / 100) / 10}s`;
  const code = o?.cause?.code ?? o?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `Slack did not answer within ${Math.round(timeoutMs / 100) / 10}s`;
  return code ? `could not reach Slack (${code})` : 'could not reach Slack';
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? t.slice(0, 199) + '…' : t;
}

function isHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
