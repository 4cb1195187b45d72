import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, setLongTimeout, timerMs } from '../../src/util/timers.js';
import { MAX_DURATION_MS, checkDuration } from '../../src/util/duration.js';
import { MAX_CONCURRENCY } from '../../src/cli/options.js';
import type { Handler, StepResult } from '../../src/handlers/handler.js';
import { asset, runAssets, tempDir } from './helpers.js';
import { cliEntry, runCli } from './cli-entry.js';

const DAY = 86_400_000;
const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'schemas', 'pipeline.schema.json'), 'utf8'));

/** A handler whose attempts wait for their abort (or fail at once, as `fail` says). */
function waiting(fail: (attempt: number) => boolean, seen: number[]): Handler<any> {
  return {
    name: 'command',
    description: 'test',
    schema: {},
    render: () => ({ command: [] }),
    run: ({ signal, attempt }): Promise<StepResult> => {
      seen.push(attempt);
      if (fail(attempt)) return Promise.resolve({ ok: false, error: 'boom' });
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, error: 'aborted' }), { once: true }));
    },
  };
}

describe('long timers (fake clock)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a plain Node timer of 30 days fires at once: the overflow the long timer avoids', () => {
    vi.useFakeTimers();
    const plain = vi.fn();
    setTimeout(plain, 30 * DAY);
    vi.advanceTimersByTime(10);
    expect(plain).toHaveBeenCalled();
  });

  it('setLongTimeout waits 30 days, not a moment less', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    setLongTimeout(fn, 30 * DAY);
    vi.advanceTimersByTime(30 * DAY - 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('setLongTimeout can be cleared in any link of its chain, and waits the maximum duration', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = setLongTimeout(fn, 40 * DAY);
    vi.advanceTimersByTime(26 * DAY); // past the first link
    t.clear();
    vi.advanceTimersByTime(20 * DAY);
    expect(fn).not.toHaveBeenCalled();
    const longest = vi.fn();
    setLongTimeout(longest, MAX_DURATION_MS);
    vi.advanceTimersByTime(MAX_DURATION_MS - 1);
    expect(longest).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(longest).toHaveBeenCalledTimes(1);
  });

  it('timerMs clamps a delay to what one Node timer takes', () => {
    expect(timerMs(30 * DAY)).toBe(MAX_TIMER_MS);
    expect(timerMs(1500)).toBe(1500);
    expect(timerMs(-5)).toBe(0);
  });

  it('a step with `timeout: 30d` is timed out after 30 days, not after a moment', async () => {
    vi.useFakeTimers();
    const seen: number[] = [];
    const h = waiting(() => false, seen);
    const running = runAssets([asset('slow', ['x'], { timeoutMs: 30 * DAY })], { handler: () => h, preflight: false });
    await vi.advanceTimersByTimeAsync(29 * DAY);
    expect(seen).toEqual([1]);
    let done = false;
    void running.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(DAY - 10);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    const { outcome } = await running;
    expect(outcome.steps[0]).toMatchObject({ status: 'failure' });
    expect(outcome.steps[0]!.error).toMatch(/^timed out after 720h 00m/);
  });

  it('a retry delay of 25d retries after 25 days', async () => {
    vi.useFakeTimers();
    const seen: number[] = [];
    const h = waiting(() => true, seen);
    const retry = { attempts: 2, backoff: 'fixed' as const, delayMs: 25 * DAY, maxDelayMs: 30 * DAY, jitter: false };
    const running = runAssets([asset('flaky', ['x'], { retry })], { handler: () => h, preflight: false });
    await vi.advanceTimersByTimeAsync(25 * DAY - 10);
    expect(seen).toEqual([1]);
    await vi.advanceTimersByTimeAsync(20);
    const { outcome } = await running;
    expect(seen).toEqual([1, 2]);
    expect(outcome.steps[0]).toMatchObject({ status: 'failure', attempts: 2 });
  });
});

describe('duration and concurrency bounds', () => {
  beforeAll(async () => {
    await cliEntry();
  }, 60_000);

  it('the schema states the maximum duration and the maximum concurrency the CLI checks', () => {
    expect(schema.definitions.Duration.description).toContain("at most `3650d`");
    expect(schema.definitions.RunnerSettings.properties.concurrency.maximum).toBe(MAX_CONCURRENCY);
    expect(checkDuration('3650d')).toEqual({ ok: true, ms: MAX_DURATION_MS });
    expect(checkDuration('3651d').ok).toBe(false);
    expect(checkDuration('87601h').ok).toBe(false);
  });

  for (const bad of ['99999999999999999999', '5000', '1025', '0', '-3', '2.5']) {
    it(`materialize --concurrency ${bad} is bad input (exit 2), nothing runs`, async () => {
      const r = await runCli(['materialize', '-p', 'examples/quickstart', '--select', '*', '--concurrency', bad], { env: { RUNNER_HOME: tempDir() } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--concurrency must be a whole number from 1 to 1024, not \`${bad}\``);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('serve --grace beyond the maximum, or not a duration, is bad input (exit 2)', async () => {
    for (const [value, says] of [
      ['4000d', '--grace: `4000d` is longer than the longest duration the runner takes, 3650d'],
      ['99999999999999999999', 'is longer than the longest duration the runner takes'],
      ['soon', '--grace: `soon` is not a duration'],
    ] as const) {
      const r = await runCli(['serve', '-p', 'examples/quickstart', '--port', '0', '--grace', value], { env: { RUNNER_HOME: tempDir() } });
      expect(r.code, value).toBe(2);
      expect(r.stderr).toContain(says);
    }
  });

  it('a duration beyond the maximum in a pipeline file is reported at its position (exit 2)', async () => {
    const root = tempDir('runner-dur-');
    const dir = path.join(root, 'pipelines');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'p.yaml'),
      ['assets:', '  - key: a', '    handler: command', '    config: {run: ["true"]}', '    timeout: 4000d', '    retry: {attempts: 2, delay: 30d, max_delay: 99999d}', ''].join('\n'),
    );
    const r = await runCli(['check', '-p', dir], { env: { RUNNER_HOME: path.join(root, 'home') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/p\.yaml:5:14: .*assets\.0\.timeout: `4000d` is longer than the longest duration the runner takes, 3650d/);
    expect(r.stderr).toMatch(/p\.yaml:6:\d+: .*assets\.0\.retry\.max_delay: `99999d` is longer/);
    expect(r.stderr).not.toContain('`30d`');
  });
});
