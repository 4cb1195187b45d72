/**
 * `runner serve` (the built CLI, web UI mounted) against a few thousand random and
 * malformed requests on loopback: broken percent-escapes in every routed prefix, invalid
 * methods, huge and malformed headers, bad bodies, absurd request targets, and clients
 * that stall (those get 408 once the header timeout passed). Afterwards serve must still answer `/healthz`, its one-second schedule must
 * still tick, no answer may be a 5xx, and the last-resort guard must have had nothing to
 * catch (the router's own handling answered everything).
 *
 * The generator is seeded (printed on failure) and the request count and time are bounded.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDir } from '../schedule/helpers.js';
import { query, startServe, waitFor, type ServeProc } from './proc.js';

const PIPELINE = `
assets:
  - key: fuzz/a
    handler: command
    config: {run: ["true"]}
jobs:
  - name: fuzz_job
    select: "fuzz/*"
schedules:
  - name: every_second
    cron: "* * * * * *"
    job: fuzz_job
    default_status: running
    overlap: skip
`;

const REQUESTS = 3000;
const PARALLEL = 16;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

let root: string;
let home: string;
let serve: ServeProc;
let port: number;

beforeAll(async () => {
  root = tempDir('runner-fuzz-');
  home = path.join(root, 'home');
  fs.mkdirSync(path.join(root, 'pipelines'));
  fs.writeFileSync(path.join(root, 'pipelines', 'main.yaml'), PIPELINE);
  serve = await startServe(root, ['-p', 'pipelines', '--log-format', 'json'], { RUNNER_HOME: home, RUNNER_ENV: '', DAGSTER_ENV: '' });
  port = Number(new URL(serve.url).port);
});

afterAll(async () => {
  if (serve?.child.exitCode === null) {
    serve.child.kill('SIGKILL');
    await serve.exited;
  }
  fs.rmSync(root, { recursive: true, force: true });
});

/** mulberry32: a small seeded generator, so a failure can be replayed with FUZZ_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PREFIXES = ['/', '/api/assets/', '/assets/', '/api/runs/x/log/', '/api/runs/', '/static/', '/api/schedules/', '/api/runs/x/stream', '/runs/', '/healthz/', '/api/list', '/api/graph'];
const ESCAPES = ['%zz', '%E0%A4%A', '%E0', '%', '%%', '%C0%AF', '%ED%A0%80', '%FF', '%00', '%2F', '%25', '%u0041', '%e2%82%ac', '%F0%9F%98', '..', '__', '%2e%2e'];
const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'G\u0000T', 'GETT', 'get', 'BREW', '', '\u00ff\u00fe', 'GET /x HTTP/1.1\r\nGET'];

/** One raw request: bytes to send (possibly in pieces), what it exercises. */
function generate(r: () => number, i: number): { kind: string; chunks: Buffer[] } {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const randomBytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  const segment = (): string => {
    const parts: string[] = [];
    for (let k = 0, n = 1 + Math.floor(r() * 4); k < n; k++) {
      const c = r();
      parts.push(c < 0.45 ? pick(ESCAPES) : c < 0.7 ? r().toString(36).slice(2, 8) : c < 0.85 ? encodeURIComponent(String.fromCodePoint(Math.floor(r() * 0x2fff))) : randomBytes(1 + Math.floor(r() * 3)).toString('latin1').replace(/[\s]/g, '_'));
    }
    return parts.join(r() < 0.3 ? '/' : '');
  };
  const target = (): string => {
    const c = r();
    if (c < 0.75) return pick(PREFIXES) + segment() + (r() < 0.2 ? `?token=${segment()}&limit=${segment()}` : '');
    if (c < 0.8) return '*';
    if (c < 0.85) return `http://${segment()}/${segment()}`;
    if (c < 0.9) return '//' + segment();
    if (c < 0.95) return '/' + 'a'.repeat(20_000 + Math.floor(r() * 20_000));
    return segment();
  };
  const host = r() < 0.8 ? `127.0.0.1:${port}` : pick(['evil.example', '', 'localhost', '[::1]', '127.0.0.1:99999', '\u0000']);
  const c = r();
  const head = (method: string, extra: string[] = []) => Buffer.from([`${method} ${target()} HTTP/1.1`, `Host: ${host}`, 'Connection: close', ...extra, '', ''].join('\r\n'), 'latin1');
  if (c < 0.55) return { kind: 'path', chunks: [head('GET')] };
  if (c < 0.65) return { kind: 'method', chunks: [head(pick(METHODS))] };
  if (c < 0.7) return { kind: 'huge-header', chunks: [head('GET', [`X-Big: ${'x'.repeat(17_000 + Math.floor(r() * 40_000))}`])] };
  if (c < 0.77) {
    const bad = pick(['no colon here', 'X-A: a\u0000b', 'X-B:\r', ': empty-name', 'Content-Length: -1', 'Content-Length: 1, 2', 'Transfer-Encoding: chunked, identity', 'Authorization: Bearer', 'Cookie: ' + segment(), `Origin: ${segment()}`, 'Sec-Fetch-Site: ' + segment()]);
    return { kind: 'bad-header', chunks: [head('GET', [bad])] };
  }
  if (c < 0.9) {
    const bodies = [randomBytes(Math.floor(r() * 300)), Buffer.from('{"select": "fuzz/*"'), Buffer.from('[1,2]'), Buffer.from('null'), Buffer.alloc(70_000, 0x7b), Buffer.from(JSON.stringify({ select: segment(), job: segment() }))];
    const body = pick(bodies);
    const path = pick(['/api/runs', '/api/runs/x/cancel', '/api/schedules/every_second/stop_', '/api/assets/' + segment()]);
    const type = pick(['application/json', 'text/plain', 'application/json; charset=' + segment(), '']);
    const lying = r() < 0.2 ? body.length + 10 : body.length;
    const headers = [`POST ${path} HTTP/1.1`, `Host: ${host}`, 'Connection: close', `Content-Type: ${type}`, r() < 0.15 ? 'Transfer-Encoding: chunked' : `Content-Length: ${lying}`, '', ''].join('\r\n');
    return { kind: 'body', chunks: [Buffer.from(headers, 'latin1'), body] };
  }
  if (c < 0.95) return { kind: 'garbage', chunks: [randomBytes(1 + Math.floor(r() * 2000))] };
  // A request in many small pieces.
  const whole = head('GET');
  const chunks: Buffer[] = [];
  for (let k = 0; k < whole.length; k += 1 + Math.floor(r() * 7)) chunks.push(whole.subarray(k, k + 7));
  return { kind: `pieces-${i % 2}`, chunks };
}

/** Sends one raw request; resolves with the status of the answer, or null when the connection closed without one. */
function send(chunks: Buffer[]): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : null);
    };
    const timer = setTimeout(finish, 5000);
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (socket.destroyed) break;
        socket.write(c);
        if (chunks.length > 4) await new Promise((r) => setImmediate(r));
      }
    });
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      data += d;
      if (data.length > 64) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
  });
}

it(`survives ${REQUESTS} random and malformed requests (seed ${SEED}), still answers /healthz, and its schedule still ticks`, { timeout: 180_000 }, async () => {
  const r = rng(SEED);
  // Clients that stall: half a request line, half the headers, then nothing, held open throughout.
  const slow = Array.from({ length: 8 }, (_, k) => {
    const s = net.connect(port, '127.0.0.1');
    const got = { text: '', closed: false, headersOnly: k % 2 === 0 };
    s.setEncoding('latin1');
    s.on('data', (d: string) => (got.text += d));
    s.on('close', () => (got.closed = true));
    s.on('error', () => undefined);
    s.write(k % 2 === 0 ? 'GET /api/ass' : `POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 100\r\n\r\n{"sel`);
    return { s, got };
  });
  const statuses = new Map<string, number>();
  const fiveHundreds: string[] = [];
  let next = 0;
  const deadline = Date.now() + 120_000;
  const worker = async () => {
    while (next < REQUESTS && Date.now() < deadline) {
      const i = next++;
      const req = generate(r, i);
      const status = await send(req.chunks);
      const k = `${req.kind} ${status ?? 'closed'}`;
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
      if (status !== null && status >= 500) fiveHundreds.push(`${req.kind}: ${Buffer.concat(req.chunks).toString('latin1').slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const fuzzEnd = new Date();
  const sent = [...statuses.values()].reduce((a, b) => a + b, 0);
  if (process.env.FUZZ_VERBOSE) console.log(JSON.stringify(Object.fromEntries([...statuses].sort())));
  const answered = [...statuses].filter(([k]) => !k.endsWith('closed')).reduce((a, [, n]) => a + n, 0);

  expect(serve.child.exitCode, `serve exited (seed ${SEED})\n${serve.stderr.join('')}`).toBeNull();
  expect(sent).toBeGreaterThanOrEqual(Math.min(REQUESTS, 1000));
  // Nearly every request got an HTTP answer (the rest: garbage node:http answers by closing, pieces cut off).
  expect(answered / sent, JSON.stringify(Object.fromEntries(statuses))).toBeGreaterThan(0.8);
  expect(fiveHundreds, `seed ${SEED}`).toEqual([]);
  // The malformed escapes that used to throw in the router get 400.
  for (const p of ['/api/assets/%E0%A4%A', '/assets/%zz', '/api/runs/x/log/%E0', '/static/%E0%A4']) {
    expect(await send([Buffer.from(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)]), p).toBe(400);
  }
  // The stalled clients were cut off or are still waiting; serve answers the others meanwhile.
  const health = await fetch(`${serve.url}/healthz`);
  expect(health.status).toBe(200);
  // The schedule ticks after the storm: a started tick claimed after it ended.
  await waitFor(
    'a tick after the fuzzing',
    () => query<{ n: number }>(home, "SELECT count(*) AS n FROM ticks WHERE schedule = 'every_second' AND outcome IN ('started', 'skipped') AND created_at > ?", fuzzEnd.toISOString())[0]!.n > 0,
    15_000,
  );
  // Clients that never finish their headers get 408 and are cut off (10 s; bodies get 30 s).
  const stalled = slow.filter((x) => x.got.headersOnly);
  await waitFor('stalled clients cut off', () => stalled.every((x) => x.got.closed), 30_000, 200);
  for (const x of stalled) expect(x.got.text).toMatch(/^HTTP\/1\.1 408 /);
  // The router answered everything itself: nothing reached the last-resort guard.
  const caught = serve.lines.filter((l) => /request handler failed|outside any request/.test(l));
  expect(caught, `seed ${SEED}`).toEqual([]);
  for (const x of slow) x.s.destroy();
});
