/**
 * A fake Slack incoming webhook on 127.0.0.1 (port 0). It checks every payload against
 * Block Kit's limits (≤ 50 blocks, known block types, header ≤ 150 characters of
 * plain_text, section text ≤ 3,000, fields ≤ 10 of ≤ 2,000, button text ≤ 75 and URL
 * ≤ 3,000, top-level text ≤ 40,000) and answers like Slack: 200 `ok`, or 400
 * `invalid_blocks` when a limit is broken. Scripted answers test retries: 500, 429 with a
 * `Retry-After`, or no answer at all.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer, used for one request. */
export type SlackAnswer = { status: number; body?: string; retryAfter?: string } | { hang: true };

export interface ReceivedMessage {
  payload: Record<string, unknown>;
  /** Block Kit problems found (empty when valid). */
  problems: string[];
  /** What the fake answered. */
  answered: number | 'hang';
  at: number;
}

const BLOCK_TYPES = new Set(['header', 'section', 'context', 'actions', 'divider', 'image', 'rich_text', 'input', 'file', 'video', 'markdown']);

/** Block Kit problems of one payload (empty when Slack would accept it). */
export function blockKitProblems(payload: Record<string, unknown>): string[] {
  const p: string[] = [];
  const text = payload.text;
  const blocks = payload.blocks;
  if (text === undefined && blocks === undefined) p.push('no text and no blocks');
  if (text !== undefined && typeof text !== 'string') p.push('text is not a string');
  if (typeof text === 'string' && text.length > 40_000) p.push(`text has ${text.length} characters (max 40000)`);
  if (blocks === undefined) return p;
  if (!Array.isArray(blocks)) return [...p, 'blocks is not an array'];
  if (blocks.length > 50) p.push(`${blocks.length} blocks (max 50)`);
  blocks.forEach((b: Record<string, any>, i) => {
    const at = `blocks[${i}]`;
    if (!b || typeof b !== 'object' || !BLOCK_TYPES.has(b.type)) return p.push(`${at}: unknown block type ${JSON.stringify(b?.type)}`);
    if (b.block_id !== undefined && (typeof b.block_id !== 'string' || b.block_id.length > 255)) p.push(`${at}: block_id too long`);
    const textObj = (t: any, where: string, max: number, kinds = ['plain_text', 'mrkdwn']) => {
      if (!t || typeof t !== 'object' || !kinds.includes(t.type) || typeof t.text !== 'string') return p.push(`${where}: not a ${kinds.join('/')} text object`);
      if (t.text.length === 0) p.push(`${where}: empty text`);
      if (t.text.length > max) p.push(`${where}: ${t.text.length} characters (max ${max})`);
    };
    switch (b.type) {
      case 'header':
        textObj(b.text, `${at}.text`, 150, ['plain_text']);
        break;
      case 'section':
        if (b.text === undefined && b.fields === undefined) p.push(`${at}: section without text or fields`);
        if (b.text !== undefined) textObj(b.text, `${at}.text`, 3000);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > 10) p.push(`${at}.fields: max 10`);
          else b.fields.forEach((f: unknown, j: number) => textObj(f, `${at}.fields[${j}]`, 2000));
        }
        break;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) p.push(`${at}.elements: 1 to 10`);
        else b.elements.forEach((e: any, j: number) => (e?.type === 'image' ? undefined : textObj(e, `${at}.elements[${j}]`, 3000)));
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25) p.push(`${at}.elements: 1 to 25`);
        else
          b.elements.forEach((e: any, j: number) => {
            if (e?.type !== 'button') return;
            textObj(e.text, `${at}.elements[${j}].text`, 75, ['plain_text']);
            if (e.url !== undefined && (typeof e.url !== 'string' || e.url.length > 3000)) p.push(`${at}.elements[${j}].url: max 3000`);
          });
        break;
    }
  });
  return p;
}

/** A running fake webhook. */
export class FakeSlack {
  readonly received: ReceivedMessage[] = [];
  /** Answers for the next requests, in order; after them, 200 `ok`. */
  readonly script: SlackAnswer[] = [];
  url = '';
  private readonly server: http.Server;

  private constructor() {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(): Promise<FakeSlack> {
    const s = new FakeSlack();
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    // Shaped like a real webhook URL: its path is the credential.
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}/services/T0001/B0001/s3cr3tW3bh00kT0k3n`;
    return s;
  }

  /** The payloads Slack accepted. */
  get accepted(): Array<Record<string, unknown>> {
    return this.received.filter((r) => r.answered === 200).map((r) => r.payload);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      return;
    }
    const problems = blockKitProblems(payload);
    const scripted = this.script.shift();
    const entry: ReceivedMessage = { payload, problems, answered: 200, at: Date.now() };
    this.received.push(entry);
    if (scripted && 'hang' in scripted) {
      entry.answered = 'hang';
      return;
    }
    if (scripted) {
      entry.answered = scripted.status;
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (scripted.retryAfter !== undefined) headers['retry-after'] = scripted.retryAfter;
      res.writeHead(scripted.status, headers).end(scripted.body ?? (scripted.status === 429 ? 'rate_limited' : scripted.status >= 500 ? 'rollup_error' : 'error'));
      return;
    }
    if (problems.length > 0) {
      entry.answered = 400;
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_blocks');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('ok');
  }
}
