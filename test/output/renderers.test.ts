import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/execution/events.js';
import { PlainRenderer } from '../../src/output/plain.js';
import { JsonRenderer } from '../../src/output/json.js';
import { Tails, formatSummary, locateArgs } from '../../src/output/summary.js';
import { style, useColor, visibleLine } from '../../src/output/style.js';
import { resolveMode } from '../../src/output/index.js';
import type { RunOutcome } from '../../src/execution/executor.js';

class Out {
  text = '';
  isTTY = false;
  write(s: string) {
    this.text += s;
    return true;
  }
}

const ev = (type: RunEvent['type'], over: Partial<RunEvent> = {}): RunEvent => ({ ts: '2025-03-04T05:06:07.089Z', type, run_id: 'r1', ...over });

const stream: RunEvent[] = [
  ev('run_started', { status: 'started', data: { steps: 2, concurrency: 4 } }),
  ev('step_started', { key: 'a/b', attempt: 1, status: 'running' }),
  ev('log', { key: 'a/b', attempt: 1, line: 'hello', stream: 'stdout' }),
  ev('log', { key: 'a/b', attempt: 1, line: 'long-', stream: 'stdout', partial: true }),
  ev('log', { key: 'a/b', attempt: 1, line: 'line', stream: 'stdout' }),
  ev('log', { key: 'a/b', attempt: 1, line: 'oops', stream: 'stderr' }),
  ev('retry_scheduled', { key: 'a/b', attempt: 1, message: 'exit code 1: oops\noops', data: { delay_ms: 1500, next_attempt: 2 } }),
  ev('step_started', { key: 'a/b', attempt: 2, status: 'running' }),
  ev('step_failed', { key: 'a/b', attempt: 2, status: 'failure', message: 'exit code 1: oops\noops', data: { duration_ms: 2300, exit_code: 1 } }),
  ev('step_skipped', { key: 'c', status: 'skipped', message: 'upstream a/b failed' }),
  ev('run_finished', { status: 'failure', message: '1 step failed' }),
];

describe('plain renderer', () => {
  it('writes timestamped lines prefixed by the key, joining the pieces of a long line', async () => {
    const out = new Out();
    const r = new PlainRenderer(out, false);
    r.start();
    for (const e of stream) r.emit(e);
    await r.close();
    expect(out.text.split('\n')).toEqual([
      '05:06:07.089 run r1 started: 2 steps, concurrency 4',
      '05:06:07.089 a/b ▶ started',
      '05:06:07.089 a/b | hello',
      '05:06:07.089 a/b | long-line',
      '05:06:07.089 a/b | oops',
      '05:06:07.089 a/b ↻ attempt 1 failed, retrying in 1.5s: exit code 1: oops …',
      '05:06:07.089 a/b ▶ started (attempt 2)',
      '05:06:07.089 a/b ✖ failure in 2.3s: exit code 1: oops …',
      '05:06:07.089 c ↓ skipped: upstream a/b failed',
      '05:06:07.089 run r1 failure',
      '',
    ]);
  });

  it('starts a new line when another step speaks after an unfinished piece', async () => {
    const out = new Out();
    const r = new PlainRenderer(out, false);
    r.emit(ev('log', { key: 'a', line: 'abc', stream: 'stdout', partial: true }));
    r.emit(ev('log', { key: 'b', line: 'xyz', stream: 'stdout' }));
    r.emit(ev('log', { key: 'a', line: 'end', stream: 'stdout', partial: true }));
    await r.close();
    expect(out.text).toBe('05:06:07.089 a | abc\n05:06:07.089 b | xyz\n05:06:07.089 a | end\n');
  });

  it('colors only when asked', async () => {
    const out = new Out();
    const r = new PlainRenderer(out, true);
    r.emit(stream[8]!);
    await r.close();
    expect(out.text).toContain('\u001b[31m✖ failure\u001b[39m');
  });
});

describe('json renderer', () => {
  it('writes exactly one event per line, as emitted', async () => {
    const out = new Out();
    const r = new JsonRenderer(out);
    for (const e of stream) r.emit(e);
    await r.close();
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(stream.length);
    expect(lines.map((l) => JSON.parse(l))).toEqual(stream);
    expect(Object.keys(JSON.parse(lines[0]!)).slice(0, 3)).toEqual(['ts', 'type', 'run_id']);
  });
});

describe('summary', () => {
  it('counts statuses, shows failed steps with their last lines, the run id and the logs', () => {
    const tails = new Tails();
    for (let i = 1; i <= 15; i++) tails.emit(ev('log', { key: 'x', line: `line ${i}` }));
    const outcome: RunOutcome = {
      runId: '0123456789abcdef',
      status: 'failure',
      startedAt: 0,
      endedAt: 2500,
      steps: [
        { key: 'ok', status: 'success', attempts: 1 },
        { key: 'x', status: 'failure', attempts: 2, error: 'timed out after 1.0s' },
        { key: 'y', status: 'skipped', attempts: 0, error: 'upstream x failed' },
      ],
    };
    const text = formatSummary(outcome, tails, { logsDir: '.runner/logs/0123', style: style(false) });
    expect(text).toContain('Run failure in 2.5s: 1 success, 1 failure, 1 skipped');
    expect(text).toContain('✖ x (2 attempts)\n    timed out after 1.0s\n    last output:\n    | line 6\n');
    expect(text).toContain('    | line 15\n');
    expect(text).not.toContain('| line 5\n');
    expect(text).toContain('↓ y: upstream x failed');
    expect(text).toContain('Run id: 0123456789abcdef');
    expect(text).toContain('Logs:   .runner/logs/0123  (runner logs 01234567 [KEY])');
  });

  it('says an error shared by several steps once, naming and counting them', () => {
    const cause = 'preflight check failed: openmetadata CLI: `metadata` not found';
    const steps = ['a', 'b', 'c'].map((k) => ({ key: `om/${k}`, status: 'failure' as const, attempts: 1, error: cause }));
    const outcome: RunOutcome = { runId: '0123456789abcdef', status: 'failure', startedAt: 0, endedAt: 1, steps: [...steps, { key: 'om/d', status: 'failure', attempts: 1, error: 'other' }] };
    const text = formatSummary(outcome, new Tails(), { logsDir: 'logs', locate: ' -p examples/quickstart', style: style(false) });
    expect(text).toContain(`✖ 3 steps failed with the same error: om/a, om/b, om/c\n    ${cause}\n\n✖ om/d\n    other\n`);
    expect(text.split(cause)).toHaveLength(2);
    expect(text).toContain('Logs:   logs  (runner logs 01234567 -p examples/quickstart [KEY])');
    expect(text).toContain('Retry:  runner retry 01234567 -p examples/quickstart  (runs the 4 steps that did not succeed)');
  });

  it('the plain view prints a failure message once, then `same error as KEY`', async () => {
    const out = new Out();
    const r = new PlainRenderer(out, false);
    for (const key of ['a', 'b']) r.emit(ev('step_failed', { key, status: 'failure', message: 'command not found: metadata', data: { duration_ms: 5 } }));
    r.emit(ev('step_failed', { key: 'c', status: 'failure', message: 'another cause', data: { duration_ms: 5 } }));
    await r.close();
    expect(out.text.split('\n').slice(0, 3)).toEqual([
      '05:06:07.089 a ✖ failure in 5ms: command not found: metadata',
      '05:06:07.089 b ✖ failure in 5ms: same error as a',
      '05:06:07.089 c ✖ failure in 5ms: another cause',
    ]);
  });

  it('the hint carries -p only when `runner logs` needs it to find the store', () => {
    expect(locateArgs('pipelines', {}, '/srv/p')).toBe('');
    expect(locateArgs('/srv/p/pipelines', {}, '/srv/p')).toBe('');
    expect(locateArgs('examples/quickstart', {}, '/srv/p')).toBe(' -p examples/quickstart');
    expect(locateArgs('/elsewhere/my pipelines', {}, '/srv/p')).toBe(" -p '/elsewhere/my pipelines'");
    expect(locateArgs('examples/quickstart', { RUNNER_HOME: '/var/runner' }, '/srv/p')).toBe('');
  });

  it('does not repeat the output a command error already ends with', () => {
    const tails = new Tails();
    tails.emit(ev('log', { key: 'x', line: 'boom' }));
    const outcome: RunOutcome = { runId: 'r', status: 'failure', startedAt: 0, endedAt: 1, steps: [{ key: 'x', status: 'failure', attempts: 1, error: 'exit code 2: boom\nboom' }] };
    const text = formatSummary(outcome, tails, { style: style(false) });
    expect(text).toContain('    exit code 2: boom\n    | boom\n');
    expect(text).not.toContain('last output');
  });
});

describe('terminal handling', () => {
  it('honours NO_COLOR and FORCE_COLOR', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
  });
  it('uses the listr2 view only on a terminal', () => {
    expect(resolveMode(undefined, { isTTY: true, write: () => true })).toBe('tty');
    expect(resolveMode(undefined, { isTTY: false, write: () => true })).toBe('plain');
    expect(resolveMode('tty', { write: () => true })).toBe('plain');
    expect(resolveMode('json', { isTTY: true, write: () => true })).toBe('json');
  });
  it('shows what a terminal would of a line', () => {
    expect(visibleLine('10%\r50%\r\u001b[32m100%\u001b[39m  \r')).toBe('100%');
  });
});
