import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRetryAfter, sendToSlack } from '../../src/notify/slack.js';
import type { SlackMessage } from '../../src/notify/message.js';
import { FakeSlack } from '../support/fake-slack.js';

const message: SlackMessage = { text: 'Dev Run Failure', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'Dev Run Failure' } }] };

const open: FakeSlack[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
async function slack(): Promise<FakeSlack> {
  const s = await FakeSlack.start();
  open.push(s);
  return s;
}

/** Records the waits instead of waiting (unit tests do not sleep). */
function recorder(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

describe('sendToSlack', () => {
  it('posts text and blocks and reports sent', async () => {
    const s = await slack();
    const r = await sendToSlack(s.url, message);
    expect(r).toEqual({ status: 'sent', detail: 'sent to Slack', attempts: 1 });
    expect(s.accepted).toEqual([{ text: 'Dev Run Failure', blocks: message.blocks }]);
  });

  it('honours Retry-After on 429', async () => {
    const s = await slack();
    s.script.push({ status: 429, retryAfter: '7' }, { status: 429, retryAfter: '2' });
    const rec = recorder();
    const r = await sendToSlack(s.url, message, { sleep: rec.sleep, baseDelayMs: 10 });
    expect(r).toEqual({ status: 'sent', detail: 'sent to Slack (attempt 3)', attempts: 3 });
    expect(rec.waits).toEqual([7000, 2000]);
    expect(s.received.map((x) => x.answered)).toEqual([429, 429, 200]);
  });

  it('gives up when Retry-After asks for longer than it waits', async () => {
    const s = await slack();
    s.script.push({ status: 429, retryAfter: '3600' });
    const rec = recorder();
    const r = await sendToSlack(s.url, message, { sleep: rec.sleep });
    expect(r).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.detail).toBe('Slack answered 429 rate_limited; it asked to retry after 3600s, longer than the runner waits');
    expect(rec.waits).toEqual([]);
  });

  it('retries 500 with exponential backoff, then gives up', async () => {
    const s = await slack();
    s.script.push({ status: 500 }, { status: 500 }, { status: 503 }, { status: 500 });
    const rec = recorder();
    const r = await sendToSlack(s.url, message, { sleep: rec.sleep, baseDelayMs: 100, attempts: 4 });
    expect(r).toEqual({ status: 'failed', detail: 'Slack answered 500 rollup_error; gave up after 4 attempts', attempts: 4 });
    expect(rec.waits).toEqual([100, 200, 400]);
    expect(s.received).toHaveLength(4);
  });

  it('a 500 followed by success is sent', async () => {
    const s = await slack();
    s.script.push({ status: 500 });
    const rec = recorder();
    expect(await sendToSlack(s.url, message, { sleep: rec.sleep })).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('does not retry a 4xx such as invalid_blocks or a revoked webhook', async () => {
    const s = await slack();
    const bad: SlackMessage = { text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] };
    const rec = recorder();
    const r = await sendToSlack(s.url, bad, { sleep: rec.sleep });
    expect(r).toEqual({ status: 'failed', detail: 'Slack answered 400 invalid_blocks', attempts: 1 });
    expect(s.received[0]!.problems).toEqual(['blocks[0].text: 151 characters (max 150)']);
    s.script.push({ status: 404, body: 'no_service' });
    expect(await sendToSlack(s.url, message, { sleep: rec.sleep })).toMatchObject({ status: 'failed', detail: 'Slack answered 404 no_service' });
  });

  it('times out an attempt that gets no answer, retries, then gives up', async () => {
    const s = await slack();
    s.script.push({ hang: true }, { hang: true });
    const rec = recorder();
    const r = await sendToSlack(s.url, message, { sleep: rec.sleep, timeoutMs: 200, attempts: 2 });
    expect(r).toEqual({ status: 'failed', detail: 'Slack did not answer within 0.2s; gave up after 2 attempts', attempts: 2 });
    expect(s.received).toHaveLength(2);
  });

  it('reports an unreachable webhook without its URL', async () => {
    const srv = http.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const url = `http://127.0.0.1:${port}/services/T/B/secretpart`;
    const r = await sendToSlack(url, message, { sleep: recorder().sleep, attempts: 2 });
    expect(r).toEqual({ status: 'failed', detail: 'could not reach Slack (ECONNREFUSED); gave up after 2 attempts', attempts: 2 });
    expect(await sendToSlack('not a url', message)).toMatchObject({ status: 'failed', detail: 'the Slack webhook is not an http(s) URL' });
  });

  it('stops retrying when canceled', async () => {
    const s = await slack();
    s.script.push({ status: 500 });
    const ac = new AbortController();
    ac.abort();
    const r = await sendToSlack(s.url, message, { signal: ac.signal });
    expect(r).toMatchObject({ status: 'failed', attempts: 1, detail: 'Slack answered 500 rollup_error; stopped retrying (canceled)' });
  });

  it('parses Retry-After in seconds and as a date', () => {
    expect(parseRetryAfter('30')).toBe(30_000);
    expect(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000)).toBe(5_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
