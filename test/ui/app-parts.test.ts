/**
 * The pieces behind the run page and the asset graph at scale: ANSI colours, the step
 * order and filter of the timeline, the grouped graph layout with collapsed groups and
 * lineage, dependency depths of a long chain; the log line index beside step logs; and
 * the session cookie's expiry and `Secure` flag.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { AnsiParser, stripAnsi } from '../../src/ui/app/ansi.js';
import { orderSteps } from '../../src/ui/app/step-order.js';
import { groupId, layoutGroups, lineage } from '../../src/ui/app/group-layout.js';
import { dependencyDepths } from '../../src/ui/app/graph-layout.js';
import { LINE_INDEX_SUFFIX, LogWriter } from '../../src/storage/logs.js';
import { Guard, SESSION_COOKIE, SESSION_MAX_AGE_S, viaHttps } from '../../src/ui/guard.js';
import type { StepRecord } from '../../src/storage/types.js';

describe('ANSI', () => {
  it('turns SGR sequences into styled segments and drops other escapes', () => {
    const p = new AnsiParser();
    expect(p.push('\x1b[31mred\x1b[0m plain \x1b[1;33mbold yellow\x1b[39m bold\x1b[0m\x1b[2K end')).toEqual([
      { text: 'red', cls: 'ansi-fg-1' },
      { text: ' plain ', cls: '' },
      { text: 'bold yellow', cls: 'ansi-fg-3 ansi-bold' },
      { text: ' bold', cls: 'ansi-bold' },
      { text: ' end', cls: '' },
    ]);
    expect(p.push('\x1b[38;5;196mx\x1b[48;2;1;2;3my\x1b[92mz')).toEqual([
      { text: 'x', cls: '', fg: 'rgb(255,0,0)' },
      { text: 'y', cls: '', fg: 'rgb(255,0,0)', bg: 'rgb(1,2,3)' },
      { text: 'z', cls: 'ansi-fg-10', bg: 'rgb(1,2,3)' },
    ]);
  });

  it('keeps the style across chunks (a growing log is parsed once)', () => {
    const p = new AnsiParser();
    p.push('\x1b[32mgreen starts\n');
    expect(p.push('still green\n')).toEqual([{ text: 'still green\n', cls: 'ansi-fg-2' }]);
    expect(stripAnsi('\x1b[31mboom\x1b[0m \x1b]0;title\x07done')).toBe('boom done');
  });
});

describe('timeline order and filter', () => {
  const step = (key: string, status: string, started: string | null) => ({ key, status, started_at: started }) as unknown as StepRecord;
  const steps = [step('c', 'success', '2024-05-01T12:00:03Z'), step('a', 'failure', '2024-05-01T12:00:01Z'), step('p', 'pending', null), step('b', 'success', '2024-05-01T12:00:02Z')];
  it('plan order, or by start time with never-started steps last; filtered by status', () => {
    expect(orderSteps(steps, 'plan', '').map((s) => s.key)).toEqual(['c', 'a', 'p', 'b']);
    expect(orderSteps(steps, 'start', '').map((s) => s.key)).toEqual(['a', 'b', 'c', 'p']);
    expect(orderSteps(steps, 'start', 'success').map((s) => s.key)).toEqual(['b', 'c']);
    expect(orderSteps(steps, 'plan', 'canceled')).toEqual([]);
  });
});

describe('grouped graph layout', () => {
  const nodes = [
    { key: 'a/1', group: 'a' },
    { key: 'a/2', group: 'a' },
    { key: 'b/1', group: 'b' },
    { key: 'b/2', group: 'b' },
  ];
  const edges = [
    { from: 'a/1', to: 'a/2' },
    { from: 'a/2', to: 'b/1' },
    { from: 'b/1', to: 'b/2' },
    { from: 'a/1', to: 'b/2' },
  ];

  it('columns by depth over the whole graph, each group a box around its assets, the boxes not overlapping', () => {
    const l = layoutGroups(nodes, edges);
    const at = new Map(l.nodes.map((n) => [n.key, n]));
    expect(l.nodes.map((n) => n.layer)).toEqual([0, 1, 2, 3]);
    for (const e of edges) expect(at.get(e.to)!.x).toBeGreaterThan(at.get(e.from)!.x);
    const [ga, gb] = l.groups;
    expect(gb!.y).toBeGreaterThanOrEqual(ga!.y + ga!.height);
    for (const n of l.nodes) {
      const g = l.groups.find((x) => x.name === n.key.split('/')[0])!;
      expect(n.x).toBeGreaterThanOrEqual(g.x);
      expect(n.x + l.nodeWidth).toBeLessThanOrEqual(g.x + g.width);
      expect(n.y).toBeGreaterThanOrEqual(g.y);
      expect(n.y + l.nodeHeight).toBeLessThanOrEqual(g.y + g.height);
    }
    expect(l.width).toBeGreaterThanOrEqual(gb!.x + gb!.width);
    expect(l.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual(edges.map((e) => `${e.from}>${e.to}`).sort());
  });

  it('a collapsed group is one box: its assets are not drawn, its edges end at the box, once each', () => {
    const l = layoutGroups(nodes, edges, new Set(['a']));
    expect(l.nodes.map((n) => n.key)).toEqual(['b/1', 'b/2']);
    expect(l.groups.find((g) => g.name === 'a')).toMatchObject({ collapsed: true, count: 2 });
    expect(l.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual(['b/1>b/2', `${groupId('a')}>b/1`, `${groupId('a')}>b/2`]);
  });

  it('lineage: every asset upstream and downstream', () => {
    const parents = new Map<string, string[]>();
    const children = new Map<string, string[]>();
    for (const e of edges) {
      (parents.get(e.to) ?? parents.set(e.to, []).get(e.to)!).push(e.from);
      (children.get(e.from) ?? children.set(e.from, []).get(e.from)!).push(e.to);
    }
    const l = lineage('b/1', parents, children);
    expect([...l.up].sort()).toEqual(['a/1', 'a/2']);
    expect([...l.down]).toEqual(['b/2']);
  });

  it('depths of a chain of 20,000 assets (no stack overflow), and a cycle cut', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${i}`);
    const chain = keys.slice(1).map((k, i) => ({ from: keys[i]!, to: k }));
    expect(dependencyDepths(keys, chain).get('k19999')).toBe(19_999);
    const d = dependencyDepths(['x', 'y'], [{ from: 'x', to: 'y' }, { from: 'y', to: 'x' }]);
    expect(d.size).toBe(2);
  });
});

describe('log line index', () => {
  it('records each line run of one stream with its time, numbered as the file’s lines (partial pieces too)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-idx-'));
    try {
      const file = path.join(dir, 'run', 'step.log');
      const w = new LogWriter();
      const before = Date.now();
      w.append(file, 'out one');
      w.append(file, 'out two');
      w.append(file, 'err one', false, 'stderr');
      w.append(file, 'long pie', true, 'stdout');
      w.append(file, 'ce', false, 'stdout');
      w.append(file, 'out three');
      w.finish(file);
      expect(fs.readFileSync(file, 'utf8')).toBe('out one\nout two\nerr one\nlong piece\nout three\n');
      const recs = fs
        .readFileSync(file + LINE_INDEX_SUFFIX, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' '));
      expect(recs.map(([line, , stream]) => `${line} ${stream}`)).toEqual(['0 stdout', '2 stderr', '3 stdout']);
      for (const [, ms] of recs) expect(Number(ms)).toBeGreaterThanOrEqual(before);
      // Reopened after its step finished, it numbers on from the lines already there.
      w.append(file, 'late', false, 'stderr');
      w.close();
      expect(fs.readFileSync(file + LINE_INDEX_SUFFIX, 'utf8').trim().split('\n').at(-1)).toMatch(/^5 \d+ stderr$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('session cookie', () => {
  const token = 'the-ui-token-0123456789';
  const req = (headers: Record<string, string>, encrypted = false) => ({ headers, socket: { encrypted } }) as unknown as http.IncomingMessage;
  const login = (g: Guard, r: http.IncomingMessage) => {
    const v = g.check(r, new URL(`http://x/runs?token=${token}`), 'page');
    if (v.ok) throw new Error('expected a login');
    return v.response.headers!['set-cookie']!;
  };

  it('is Secure over TLS or behind a proxy saying X-Forwarded-Proto: https, not over plain HTTP', () => {
    const g = new Guard(token);
    expect(login(g, req({ host: 'h' }))).not.toContain('Secure');
    expect(login(g, req({ host: 'h' }, true))).toMatch(/; Secure$/);
    expect(login(g, req({ host: 'h', 'x-forwarded-proto': 'https' }))).toMatch(/; Secure$/);
    expect(login(g, req({ host: 'h', 'x-forwarded-proto': 'http' }))).not.toContain('Secure');
    expect(viaHttps(req({ 'x-forwarded-proto': 'https, http' }))).toBe(true);
  });

  it(`expires: Max-Age ${SESSION_MAX_AGE_S} s, and the server refuses an older session`, () => {
    let now = Date.parse('2024-05-01T12:00:00Z');
    const g = new Guard(token, () => now);
    const session = login(g, req({ host: 'h' })).split(';')[0]!;
    expect(session.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    const read = () => g.check(req({ host: 'h', cookie: session }), new URL('http://x/api/runs'), 'read').ok;
    expect(read()).toBe(true);
    now += (SESSION_MAX_AGE_S - 60) * 1000;
    expect(read()).toBe(true);
    now += 120 * 1000;
    expect(read()).toBe(false);
    // A forged issue time does not verify.
    const forged = session.replace(/=(\d+)\./, (_m, t: string) => `=${Number(t) + 100000}.`);
    expect(g.check(req({ host: 'h', cookie: forged }), new URL('http://x/api/runs'), 'read').ok).toBe(false);
  });
});
