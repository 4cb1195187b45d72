import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { asset, maxOverlap, probe, runAssets, spans, statuses, tempDir } from './helpers.js';
import { MemoryPoolSlots } from '../../src/execution/pools.js';
import { getHandler } from '../../src/handlers/registry.js';
import type { Handler } from '../../src/handlers/handler.js';
import { Masker } from '../../src/secrets/masker.js';
import { MAX_LINE } from '../../src/execution/line-splitter.js';

describe('executor: order and concurrency', () => {
  it('keeps at most N steps running and starts each after its upstream ended', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'times.log');
    // a, b, c, d roots; e after a and b; f after e; g after c; h after f and g.
    const deps: Record<string, string[]> = { a: [], b: [], c: [], d: [], e: ['a', 'b'], f: ['e'], g: ['c'], h: ['f', 'g'] };
    const assets = Object.entries(deps).map(([k, d]) => asset(k, probe(log, k, 150), { deps: d }));
    const { outcome, events } = await runAssets(assets, { concurrency: 2 });

    expect(outcome.status).toBe('success');
    const s = spans(log);
    expect([...s.keys()].sort()).toEqual(Object.keys(deps).sort());
    expect(maxOverlap(s.values())).toBeLessThanOrEqual(2);
    // The limit is used, not just respected: two steps did run at once.
    expect(maxOverlap(s.values())).toBe(2);
    for (const [k, d] of Object.entries(deps)) for (const u of d) expect(s.get(k)!.start).toBeGreaterThanOrEqual(s.get(u)!.end);
    // Events: run_started first, run_finished last, every step started then succeeded.
    expect(events[0]!.type).toBe('run_started');
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'success' });
    for (const k of Object.keys(deps)) {
      const types = events.filter((e) => e.key === k && e.type !== 'log').map((e) => e.type);
      expect(types).toEqual(['step_started', 'step_succeeded']);
    }
  });

  it('limits a pool across steps while other steps use the rest of the concurrency', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'times.log');
    const pooled = ['p1', 'p2', 'p3'].map((k) => asset(k, probe(log, k, 150), { pool: 'cli' }));
    const free = ['f1', 'f2'].map((k) => asset(k, probe(log, k, 300)));
    const slots = new MemoryPoolSlots();
    const { outcome } = await runAssets([...pooled, ...free], { concurrency: 4, pools: { cli: 1 }, slots });
    expect(outcome.status).toBe('success');
    const s = spans(log);
    expect(maxOverlap(['p1', 'p2', 'p3'].map((k) => s.get(k)!))).toBe(1);
    expect(maxOverlap(s.values())).toBeGreaterThan(1);
    // Every slot was given back.
    expect(slots.acquirePoolSlot('cli', 1, 'other', 'x')).toBe(true);
  });
});

describe('executor: failures', () => {
  it('skips what depends on a failed step and lets independent branches finish', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'times.log');
    const assets = [
      asset('a', probe(log, 'a', 0, 'fail')),
      asset('b', probe(log, 'b', 0), { deps: ['a'] }),
      asset('c', probe(log, 'c', 0), { deps: ['b'] }),
      asset('x', probe(log, 'x', 200)),
      asset('y', probe(log, 'y', 0), { deps: ['x'] }),
    ];
    const { outcome, events } = await runAssets(assets);
    expect(statuses(outcome)).toEqual({ a: 'failure', b: 'skipped', c: 'skipped', x: 'success', y: 'success' });
    expect(outcome.status).toBe('failure');
    expect(events.find((e) => e.type === 'step_skipped' && e.key === 'b')!.message).toBe('upstream a failed');
    expect(events.find((e) => e.type === 'step_skipped' && e.key === 'c')!.message).toBe('upstream a failed');
    const failed = events.find((e) => e.type === 'step_failed')!;
    expect(failed.message).toMatch(/^exit code 2: a: failing as told/);
    expect(failed.data).toMatchObject({ exit_code: 2 });
    // Skipped steps never ran.
    expect(spans(log).has('b')).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'failure', message: '1 step failed' });
  });

  it('with failFast, starts nothing after the first failure but lets running steps finish', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'times.log');
    const assets = [
      asset('a', probe(log, 'a', 0, 'fail')),
      asset('b_long', probe(log, 'b_long', 400)),
      asset('c_later', probe(log, 'c_later', 0), { deps: ['b_long'] }),
      asset('d_later', probe(log, 'd_later', 0)),
    ];
    // Plan order: a, b_long, d_later, c_later; with two at once, a and b_long start first.
    const { outcome, events } = await runAssets(assets, { concurrency: 2, failFast: true });
    expect(statuses(outcome)).toEqual({ a: 'failure', b_long: 'success', c_later: 'skipped', d_later: 'skipped' });
    expect(events.find((e) => e.key === 'd_later' && e.type === 'step_skipped')!.message).toBe('not started: --fail-fast after a failed');
    expect([...spans(log).keys()].sort()).toEqual(['a', 'b_long']);
  });

  it('retries a failing step with backoff until it succeeds', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'times.log');
    const counter = path.join(dir, 'count');
    const a = asset('flaky', probe(log, 'flaky', 0, `failtimes:2:${counter}`), {
      retry: { attempts: 3, backoff: 'exponential', delayMs: 100, maxDelayMs: 1000, jitter: false },
    });
    const b = asset('after', probe(log, 'after', 0), { deps: ['flaky'] });
    const { outcome, events } = await runAssets([a, b]);
    expect(statuses(outcome)).toEqual({ flaky: 'success', after: 'success' });
    expect(outcome.steps.find((s) => s.key === 'flaky')!.attempts).toBe(3);
    const retries = events.filter((e) => e.type === 'retry_scheduled');
    expect(retries.map((e) => [e.attempt, e.data!.delay_ms, e.data!.next_attempt])).toEqual([
      [1, 100, 2],
      [2, 200, 3],
    ]);
    expect(retries[0]!.message).toMatch(/^exit code 1: attempt 1 fails/);
    expect(events.filter((e) => e.key === 'flaky' && e.type === 'step_started').map((e) => e.attempt)).toEqual([1, 2, 3]);
    const logs = events.filter((e) => e.key === 'flaky' && e.type === 'log').map((e) => `${e.attempt}:${e.line}`);
    expect(logs).toEqual(['1:attempt 1 fails', '2:attempt 2 fails', '3:attempt 3 succeeds']);
    // The waits happened between attempts (each attempt records its own start time).
    const starts = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { key: string; ev: string; t: number });
    const flakyStarts = starts.filter((r) => r.key === 'flaky' && r.ev === 'start').map((r) => r.t);
    const flakyEnds = starts.filter((r) => r.key === 'flaky' && r.ev === 'end').map((r) => r.t);
    expect(flakyStarts[1]! - flakyEnds[0]!).toBeGreaterThanOrEqual(100);
    expect(flakyStarts[2]! - flakyEnds[1]!).toBeGreaterThanOrEqual(200);
  });

  it('fails after the last attempt and skips downstream', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'times.log');
    const a = asset('bad', probe(log, 'bad', 0, 'fail'), { retry: { attempts: 2, backoff: 'fixed', delayMs: 10, maxDelayMs: 10, jitter: true } });
    const b = asset('b', probe(log, 'b', 0), { deps: ['bad'] });
    const { outcome, events } = await runAssets([a, b]);
    expect(statuses(outcome)).toEqual({ bad: 'failure', b: 'skipped' });
    expect(events.filter((e) => e.type === 'retry_scheduled')).toHaveLength(1);
    expect(events.find((e) => e.type === 'step_failed')).toMatchObject({ key: 'bad', attempt: 2 });
  });

  it('fails a step whose program cannot be found, with a clear message', async () => {
    const { outcome } = await runAssets([asset('nope', ['definitely-not-a-program-xyz'])]);
    expect(outcome.steps[0]).toMatchObject({ status: 'failure', error: 'command not found: definitely-not-a-program-xyz' });
  });

  it('fails a step whose config cannot be substituted (a secret that does not resolve)', async () => {
    const a = asset('s', ['sh', '-c', 'true'], { config: { run: ['sh', '-c', 'true'], env: { TOKEN: '${secret:tok}' } } });
    const { outcome } = await runAssets([a]);
    expect(outcome.steps[0]!.status).toBe('failure');
    expect(outcome.steps[0]!.error).toContain('secret `tok` could not be resolved');
  });
});

describe('executor: secrets and masking', () => {
  it('passes a secret only through the environment and masks it in output', async () => {
    const secret = 's3cr3t-value-123';
    const a = asset('s', [], {
      config: { run: ['sh', '-c', 'echo "token is $TOKEN"; echo "argv: $0 $@"'], env: { TOKEN: '${secret:tok}' } },
    });
    const seen: string[][] = [];
    const { outcome, events } = await runAssets([a], {
      resolveSecrets: async (names) => {
        seen.push(names);
        return { tok: secret };
      },
      mask: (s) => s.replaceAll(secret, '***'),
    });
    expect(outcome.status).toBe('success');
    expect(seen).toEqual([['tok']]);
    const lines = events.filter((e) => e.type === 'log').map((e) => e.line);
    expect(lines).toContain('token is ***');
    expect(JSON.stringify(events)).not.toContain(secret);
  });
});

describe('executor: a secret cut by a line piece or a tail clip', () => {
  const secret = 'straddling-secret-0123456789';
  const masker = new Masker([secret]);
  const opts = { resolveSecrets: async () => ({ tok: secret }), mask: (t: string) => masker.mask(t), maskPiece: (t: string) => masker.splitPiece(t) };

  it('a secret straddling the 64 KiB boundary of a long line never reaches the log', async () => {
    // The secret starts 10 characters before the first piece ends, on stdout and stderr.
    const pad = MAX_LINE - 10;
    const script = `printf '%*s' ${pad} '' | tr ' ' x; printf '%s' "$TOKEN"; printf '%*s\\n' 70000 '' | tr ' ' y; printf '%*s' ${pad} '' >&2; printf '%s' "$TOKEN" >&2`;
    const a = asset('long', [], { config: { run: ['sh', '-c', script], env: { TOKEN: '${secret:tok}' } } });
    const { outcome, events } = await runAssets([a], opts);
    expect(outcome.status).toBe('success');
    const logs = events.filter((e) => e.type === 'log');
    const text = (stream: string) => logs.filter((e) => e.stream === stream).map((e) => e.line + (e.partial ? '' : '\n')).join('');
    const out = text('stdout');
    expect(out).toBe(`${'x'.repeat(pad)}***${'y'.repeat(70000)}\n`);
    expect(text('stderr')).toBe(`${' '.repeat(pad)}***`);
    for (const e of logs) expect(e.line).not.toMatch(/straddling|0123456789/);
    expect(logs.some((e) => e.partial)).toBe(true);
  });

  it('a failure message never holds half of a secret cut at the 500-character clip', async () => {
    const script = `printf '%*s' 490 '' | tr ' ' z; printf '%s\\n' "$TOKEN"; exit 3`;
    const a = asset('clip', [], { config: { run: ['sh', '-c', script], env: { TOKEN: '${secret:tok}' } } });
    const { outcome, events } = await runAssets([a], opts);
    expect(outcome.status).toBe('failure');
    const failed = events.find((e) => e.type === 'step_failed')!;
    expect(failed.message).toContain(`${'z'.repeat(490)}***`);
    expect(failed.message).not.toMatch(/straddl|strad/);
  });
});

describe('executor: pools shared by runs, and preflight checks', () => {
  it('two runs sharing a pool of 1 never overlap in it (the blocked run looks again)', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'times.log');
    const slots = new MemoryPoolSlots();
    const mk = (p: string) => ['x', 'y'].map((k) => asset(`${p}${k}`, probe(log, `${p}${k}`, 120), { pool: 'db' }));
    const [r1, r2] = await Promise.all([
      runAssets(mk('one-'), { runId: 'run-a', pools: { db: 1 }, slots, poolPollMs: 20 }),
      runAssets(mk('two-'), { runId: 'run-b', pools: { db: 1 }, slots, poolPollMs: 20 }),
    ]);
    expect([r1.outcome.status, r2.outcome.status]).toEqual(['success', 'success']);
    expect(spans(log).size).toBe(4);
    expect(maxOverlap(spans(log).values())).toBe(1);
  });

  it('fails the steps a failed preflight check guards, without running them', async () => {
    const dir = tempDir();
    const ran: string[] = [];
    const fake: Handler = {
      name: 'fake',
      description: 'test',
      schema: {},
      render: () => ({ command: [] }),
      run: async (ctx) => (ran.push(ctx.asset.key), { ok: true }),
      preflight: async (ctx) => [
        { name: 'server reachable', ok: true, keys: ctx.assets.map((a) => a.asset.key) },
        { name: 'input file', ok: false, detail: 'missing: /nope', keys: ['f2'] },
      ],
    };
    const handler = (n: string) => (n === 'fake' ? fake : getHandler(n));
    const assets = [asset('f1', [], { handler: 'fake' }), asset('f2', [], { handler: 'fake' }), asset('after', probe(path.join(dir, 'l'), 'after', 0), { deps: ['f2'] })];
    const { outcome, events } = await runAssets(assets, { handler });
    expect(statuses(outcome)).toEqual({ f1: 'success', f2: 'failure', after: 'skipped' });
    expect(ran).toEqual(['f1']);
    expect(events.find((e) => e.type === 'step_failed')).toMatchObject({ key: 'f2', message: 'preflight check failed: input file: missing: /nope' });
  });
});
