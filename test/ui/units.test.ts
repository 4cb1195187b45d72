/**
 * The web UI's pure parts: cron in words, the graph layout, the display formats, and the
 * access rules (token, session cookie, CSRF, Origin, Host) of guard.ts on bare requests.
 */
import { describe, expect, it } from 'vitest';
import type http from 'node:http';
import { cronToWords } from '../../src/ui/app/cron-words.js';
import { fitLabel, layoutGraph } from '../../src/ui/app/graph-layout.js';
import { elapsed, recordsOf, relativeTime, stepCounts } from '../../src/ui/app/format.js';
import { Guard, SESSION_COOKIE, SESSION_MAX_AGE_S, checkBind, hostName, isLoopback } from '../../src/ui/guard.js';
import { InputError } from '../../src/diagnostics/diagnostic.js';
import { pageHtml, readStatic } from '../../src/ui/static.js';

describe('cronToWords', () => {
  it.each([
    ['* * * * *', 'every minute'],
    ['*/15 * * * *', 'every 15 minutes'],
    ['5 * * * *', 'every hour at :05'],
    ['0 */4 * * *', 'every 4 hours at :00'],
    ['0 2 * * *', 'every day at 02:00'],
    ['30 6,18 * * *', 'every day at 06:30 and 18:30'],
    ['0 9 * * 1-5', 'every weekday (Monday to Friday) at 09:00'],
    ['0 9 * * MON-FRI', 'every weekday (Monday to Friday) at 09:00'],
    ['0 10 * * 0,6', 'every Saturday and Sunday at 10:00'],
    ['0 8 * * 1,3,5', 'every Monday, Wednesday and Friday at 08:00'],
    ['0 0 * * 7', 'every Sunday at 00:00'],
    ['0 3 1 * *', 'on day 1 of every month at 03:00'],
    ['0 3 1,15 * *', 'on days 1 and 15 of every month at 03:00'],
    ['0 0 1 1 *', 'on day 1 of January at 00:00'],
    ['@daily', 'every day at 00:00'],
    ['@hourly', 'every hour at :00'],
    ['*/2 * * * * *', 'every 2 seconds'],
    ['0 0 2 * * *', 'every day at 02:00'],
  ])('%s → %s', (cron, words) => {
    expect(cronToWords(cron)).toBe(words);
  });

  it.each(['0 9 1 * 1', '*/5 9-17 * * *', '0 2 L * *', '15 2 * * * 2024', 'nonsense', '61 2 * * *', '0 25 * * *'])('%s has no words (shown as written)', (cron) => {
    expect(cronToWords(cron)).toBeUndefined();
  });
});

describe('layoutGraph', () => {
  const nodes = ['a', 'b', 'c', 'd', 'e'].map((key) => ({ key }));
  const edges = [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
    { from: 'a', to: 'c' },
    { from: 'd', to: 'e' },
  ];

  it('puts each node in the column of its longest path from a root, and never overlaps two nodes', () => {
    const l = layoutGraph(nodes, edges, { nodeWidth: 100, nodeHeight: 30, gapX: 50, gapY: 10, margin: 0 });
    const at = new Map(l.nodes.map((n) => [n.key, n]));
    expect([...at.values()].map((n) => [n.key, n.layer])).toEqual([['a', 0], ['b', 1], ['c', 2], ['d', 0], ['e', 1]]);
    expect(at.get('c')!.x).toBe(300);
    for (const n of l.nodes) for (const m of l.nodes) if (n !== m && n.x === m.x) expect(Math.abs(n.y - m.y)).toBeGreaterThanOrEqual(40);
    // A chain reads as a row: a single parent's child sits at its height.
    expect(at.get('e')!.y).toBe(at.get('d')!.y);
    expect(l.width).toBe(400);
    expect(l.height).toBeGreaterThanOrEqual(Math.max(...l.nodes.map((n) => n.y)) + 30);
  });

  it('draws one edge per dependency, from the right side of the upstream node to the left side of the dependent', () => {
    const l = layoutGraph(nodes, [...edges, { from: 'x', to: 'a' }], { nodeWidth: 100, nodeHeight: 30, gapX: 50, margin: 0 });
    expect(l.edges.map((e) => `${e.from}>${e.to}`)).toEqual(['a>b', 'b>c', 'a>c', 'd>e']);
    const ab = l.edges[0]!;
    expect(ab.d.startsWith('M100,15 ')).toBe(true);
    expect(ab.d.endsWith(' 150,15')).toBe(true);
  });

  it('survives a cycle', () => {
    const l = layoutGraph([{ key: 'p' }, { key: 'q' }], [{ from: 'p', to: 'q' }, { from: 'q', to: 'p' }]);
    expect(l.nodes).toHaveLength(2);
  });

  it('shortens long labels from the front', () => {
    expect(fitLabel('openmetadata/trino/metadata', 40)).toBe('openmetadata/trino/metadata');
    expect(fitLabel('openmetadata/trino/metadata', 10)).toBe('…/metadata');
  });
});

describe('formats', () => {
  it('relative times, elapsed time, step counts and records', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    expect(relativeTime('2024-05-01T11:59:50Z', now)).toBe('just now');
    expect(relativeTime('2024-05-01T11:55:00Z', now)).toBe('5 min ago');
    expect(relativeTime('2024-05-01T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('2024-04-29T12:00:00Z', now)).toBe('2 days ago');
    expect(relativeTime('2024-05-01T12:10:00Z', now)).toBe('in 10 min');
    expect(elapsed('2024-05-01T12:00:00Z', '2024-05-01T12:04:09Z')).toBe('4m 09s');
    expect(elapsed('2024-05-01T11:59:48Z', null, now)).toBe('12.0s');
    expect(stepCounts([{ status: 'success' }, { status: 'failure' }, { status: 'success' }])).toBe('2 success, 1 failure');
    expect(recordsOf({ records_processed: 1204, errors: 3 })).toEqual({ records: 1204, errors: 3 });
    expect(recordsOf({ records: 5 })).toEqual({ records: 5, errors: null });
    expect(recordsOf(null)).toEqual({ records: null, errors: null });
  });
});

/** A bare request with these headers. */
function req(headers: Record<string, string>): http.IncomingMessage {
  return { headers } as unknown as http.IncomingMessage;
}
const url = (p: string) => new URL(p, 'http://127.0.0.1:3070');

describe('guard', () => {
  it('knows loopback names and addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'ui.localhost', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.org', '192.168.1.5']) expect(isLoopback(h), h).toBe(false);
    expect(hostName('127.0.0.1:3070')).toBe('127.0.0.1');
    expect(hostName('[::1]:3070')).toBe('::1');
    expect(hostName('localhost')).toBe('localhost');
  });

  it('refuses a non-loopback bind without a token, and a short token', () => {
    expect(() => checkBind('0.0.0.0', undefined)).toThrow(InputError);
    expect(() => checkBind('0.0.0.0', undefined)).toThrow(/RUNNER_UI_TOKEN/);
    expect(() => checkBind('0.0.0.0', 'short')).toThrow(/at least 16/);
    expect(() => checkBind('0.0.0.0', 'a-long-enough-token-1234')).not.toThrow();
    expect(() => checkBind('127.0.0.1', undefined)).not.toThrow();
  });

  it('without a token: only loopback Host names (no DNS rebinding)', () => {
    const g = new Guard(undefined);
    expect(g.check(req({ host: '127.0.0.1:3070' }), url('/'), 'page').ok).toBe(true);
    expect(g.check(req({ host: 'localhost:3070' }), url('/api/runs'), 'read').ok).toBe(true);
    const v = g.check(req({ host: 'evil.example:3070' }), url('/api/runs'), 'read');
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.response.status).toBe(403);
  });

  it('with a token: bearer header, or the cookie a first ?token= page load sets', () => {
    const token = 'the-ui-token-0123456789';
    const g = new Guard(token);
    const host = { host: '10.0.0.5:3070' };
    const none = g.check(req(host), url('/runs'), 'page');
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.response.status).toBe(401);
    expect(g.check(req({ ...host, authorization: `Bearer ${token}` }), url('/api/runs'), 'read')).toEqual({ ok: true, bearer: true });
    expect(g.check(req({ ...host, authorization: 'Bearer wrong-token-0123456789' }), url('/api/runs'), 'read').ok).toBe(false);
    // ?token= only logs in on a page load, and not with a wrong token.
    expect(g.check(req(host), url(`/api/runs?token=${token}`), 'read').ok).toBe(false);
    const wrong = g.check(req(host), url('/runs?token=nope'), 'page');
    expect(!wrong.ok && wrong.response.status).toBe(401);
    const login = g.check(req(host), url(`/runs/abc?x=1&token=${token}`), 'page');
    expect(login.ok).toBe(false);
    if (login.ok) return;
    expect(login.response.status).toBe(303);
    expect(login.response.headers!['location']).toBe('/runs/abc?x=1');
    const cookie = login.response.headers!['set-cookie']!;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[^;]+; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MAX_AGE_S}$`));
    expect(cookie).not.toContain(token);
    const session = cookie.split(';')[0]!;
    expect(g.check(req({ ...host, cookie: `other=1; ${session}` }), url('/api/runs'), 'read')).toEqual({ ok: true, bearer: false });
    // The cookie of another token does not work.
    expect(new Guard('another-token-0123456789').check(req({ ...host, cookie: session }), url('/api/runs'), 'read').ok).toBe(false);
  });

  it('POSTs need the CSRF token and a same-origin request (a bearer call needs no CSRF token)', () => {
    const g = new Guard(undefined);
    const host = { host: '127.0.0.1:3070' };
    const status = (h: Record<string, string>) => {
      const v = g.check(req({ ...host, ...h }), url('/api/runs'), 'write');
      return v.ok ? 200 : v.response.status;
    };
    expect(status({})).toBe(403);
    expect(status({ 'x-csrf-token': 'wrong' })).toBe(403);
    expect(status({ 'x-csrf-token': g.csrfToken })).toBe(200);
    expect(status({ 'x-csrf-token': g.csrfToken, origin: 'http://127.0.0.1:3070', 'sec-fetch-site': 'same-origin' })).toBe(200);
    expect(status({ 'x-csrf-token': g.csrfToken, origin: 'http://evil.example' })).toBe(403);
    expect(status({ 'x-csrf-token': g.csrfToken, 'sec-fetch-site': 'cross-site' })).toBe(403);
    const token = 'the-ui-token-0123456789';
    const t = new Guard(token);
    expect(t.check(req({ host: 'h:1', authorization: `Bearer ${token}` }), url('/api/runs'), 'write').ok).toBe(true);
    expect(t.check(req({ host: 'h:1', authorization: `Bearer ${token}`, origin: 'http://evil.example' }), url('/api/runs'), 'write').ok).toBe(false);
    expect(new Guard(undefined).csrfToken).not.toBe(g.csrfToken);
  });
});

describe('static files', () => {
  it('serves only plain file names of known types, and the page carries the CSRF token escaped', () => {
    expect(readStatic('/etc', 'passwd')).toBeUndefined();
    expect(readStatic('/etc', '../etc/passwd')).toBeUndefined();
    expect(readStatic(undefined, 'app.js')).toBeUndefined();
    const html = pageHtml({ csrfToken: 'abc"<x>', env: 'dev' }, true);
    expect(html).toContain('content="abc&quot;&lt;x&gt;"');
    expect(html).toContain('<script type="module" src="/static/app.js"></script>');
    expect(pageHtml({ csrfToken: 't', env: 'dev' }, false)).toContain('npm run build');
  });
});
