import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { asset, runAssets, statuses, tempDir, useKillGrace, waitFor } from './helpers.js';
import { pidAlive, liveGroups } from '../../src/execution/process-tree.js';
import { Store } from '../../src/storage/store.js';
import { FanOut, MemorySink } from '../../src/execution/sinks.js';
import { MAX_LINE } from '../../src/execution/line-splitter.js';

const readPid = (file: string) => Number(fs.readFileSync(file, 'utf8').trim());

describe('process trees', () => {
  useKillGrace('300ms');

  it('a timeout kills the whole tree: a child that ignores SIGTERM and its sleeping grandchild', async () => {
    const dir = tempDir();
    const child = path.join(dir, 'child.pid');
    const grandchild = path.join(dir, 'grandchild.pid');
    // The shell ignores SIGTERM, and so does the sleep it starts (ignored signals are inherited).
    const script = `trap '' TERM; sleep 30 & echo $! > ${grandchild}; echo $$ > ${child}; wait`;
    const a = asset('stuck', ['sh', '-c', script], { timeoutMs: 500 });
    const { outcome, events } = await runAssets([a]);
    expect(statuses(outcome)).toEqual({ stuck: 'failure' });
    expect(outcome.steps[0]!.error).toMatch(/^timed out after 500ms; killed by SIGKILL/);
    expect(events.find((e) => e.type === 'step_failed')!.message).toContain('timed out after 500ms');
    const pids = [readPid(child), readPid(grandchild)];
    expect(pids.every((p) => p > 0)).toBe(true);
    for (const p of pids) expect(pidAlive(p)).toBe(false);
    expect(liveGroups()).toEqual([]);
  });

  it('a timed-out attempt is retried', async () => {
    const dir = tempDir();
    const counter = path.join(dir, 'n');
    // First attempt hangs, the second succeeds at once.
    const script = `n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n+1)) > ${counter}; if [ "$n" = 0 ]; then sleep 30; fi; echo ok`;
    const a = asset('slow-once', ['sh', '-c', script], { timeoutMs: 400, retry: { attempts: 2, backoff: 'fixed', delayMs: 10, maxDelayMs: 10, jitter: false } });
    const { outcome, events } = await runAssets([a]);
    expect(outcome.steps[0]).toMatchObject({ status: 'success', attempts: 2 });
    expect(events.find((e) => e.type === 'retry_scheduled')!.message).toMatch(/^timed out after 400ms/);
  });

  it('canceling the run terminates running trees and cancels every step', async () => {
    const dir = tempDir();
    const pidOf = (k: string) => path.join(dir, `${k}.pid`);
    const sleeper = (k: string) => asset(k, ['sh', '-c', `sleep 30 & echo $! > ${pidOf(k)}.gc; echo $$ > ${pidOf(k)}; wait`]);
    const assets = [sleeper('a'), sleeper('b'), asset('c', ['sh', '-c', 'true'], { deps: ['a'] }), sleeper('d')];
    const ac = new AbortController();
    const running = runAssets(assets, { concurrency: 2, signal: ac.signal });
    await waitFor(() => fs.existsSync(pidOf('a')) && fs.existsSync(pidOf('b')) && fs.existsSync(pidOf('a') + '.gc') && fs.existsSync(pidOf('b') + '.gc'), 10_000, 'two running steps');
    ac.abort('SIGINT');
    const { outcome, events } = await running;
    expect(outcome.status).toBe('canceled');
    expect(statuses(outcome)).toEqual({ a: 'canceled', b: 'canceled', c: 'canceled', d: 'canceled' });
    expect(events.find((e) => e.key === 'a' && e.type === 'step_canceled')!.message).toBe('run canceled (SIGINT)');
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'canceled' });
    for (const k of ['a', 'b']) {
      expect(pidAlive(readPid(pidOf(k)))).toBe(false);
      expect(pidAlive(readPid(pidOf(k) + '.gc'))).toBe(false);
    }
    expect(fs.existsSync(pidOf('d'))).toBe(false);
  });

  it('terminates what a program left running when it exits, without waiting for it', async () => {
    const dir = tempDir();
    const bg = path.join(dir, 'bg.pid');
    const a = asset('leaves', ['sh', '-c', `sleep 30 & echo $! > ${bg}; echo started`]);
    const t0 = Date.now();
    const { outcome } = await runAssets([a]);
    expect(outcome.steps[0]!.status).toBe('success');
    expect(Date.now() - t0).toBeLessThan(20_000); // it did not wait for the 30 s sleep
    expect(pidAlive(readPid(bg))).toBe(false);
  });
});

describe('command output', () => {
  it('hands on output without a final newline, marked partial', async () => {
    const { events } = await runAssets([asset('p', ['sh', '-c', "printf 'first\\nsecond'; printf 'to stderr' >&2"])]);
    const logs = events.filter((e) => e.type === 'log').map((e) => ({ line: e.line, stream: e.stream, partial: e.partial ?? false }));
    expect(logs).toContainEqual({ line: 'first', stream: 'stdout', partial: false });
    expect(logs).toContainEqual({ line: 'second', stream: 'stdout', partial: true });
    expect(logs).toContainEqual({ line: 'to stderr', stream: 'stderr', partial: true });
  });

  it('streams a 10 MB single line in bounded pieces, and the step log holds every byte', async () => {
    const home = tempDir('runner-home-');
    const store = Store.open(home);
    try {
      store.createRun({ id: 'run-1', trigger: { type: 'manual' }, env: 'test', selection: 'big', keys: ['big'], pipelinesDir: home });
      const mem = new MemorySink();
      // 2.5 Mi times `x€` is 10 MiB of UTF-8 (the euro sign is 3 bytes: pieces may split it), then `end` on its own line.
      const script = "process.stdout.write('x€'.repeat(2.5 * 1024 * 1024)); process.stdout.write('\\nend\\n')";
      const { outcome } = await runAssets([asset('big', [process.execPath, '-e', script])], { sink: new FanOut([store, mem]) });
      expect(outcome.status).toBe('success');
      const logs = mem.events.filter((e) => e.type === 'log');
      expect(Math.max(...logs.map((e) => e.line!.length))).toBeLessThanOrEqual(MAX_LINE);
      expect(logs.length).toBeGreaterThan(50); // 5 Mi characters in pieces of at most 64 Ki
      const big = logs.slice(0, -1);
      expect(big.slice(0, -1).every((e) => e.partial === true)).toBe(true);
      expect(big.at(-1)!.partial).toBeUndefined();
      expect(logs.at(-1)!.line).toBe('end');
      const text = fs.readFileSync(store.logPath('run-1', 'big'));
      const expected = Buffer.from('x€'.repeat(2.5 * 1024 * 1024) + '\nend\n');
      expect(text.length).toBe(expected.length);
      expect(text.equals(expected)).toBe(true);
    } finally {
      store.close();
    }
  });
});
