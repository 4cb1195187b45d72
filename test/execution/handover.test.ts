/**
 * The executor when serve stops (a `ServeHandover` abort) and when the next serve carries
 * the run on (`resume`): a step whose launcher lets go of it is handed over (no end
 * event, the run ends without `run_finished`), a local step is canceled, steps not begun
 * stay pending; with nothing handed over the run is canceled as before. Resuming follows
 * the attached attempt as the step's attempt, runs what waited on it and ends the run
 * with its real status.
 */
import { describe, expect, it } from 'vitest';
import { asset, runAssets, statuses } from './helpers.js';
import { getHandler } from '../../src/handlers/registry.js';
import type { Handler, StepResult } from '../../src/handlers/handler.js';
import { ServeHandover, isHandover } from '../../src/execution/handover.js';
import type { AttachedAttempt } from '../../src/execution/resumed-steps.js';

/** A step that runs "elsewhere" until aborted: it lets go on a handover, ends on any other abort. */
const remote = {
  name: 'remote',
  run: (ctx: { signal: AbortSignal; log: (l: string) => void }) =>
    new Promise<StepResult>((resolve) => {
      ctx.log('remote started');
      ctx.signal.addEventListener('abort', () => resolve(isHandover(ctx.signal.reason) ? { ok: false, handedOver: true, metadata: { kubernetes_job: 'data/r-x' } } : { ok: false, error: 'deleted' }), { once: true });
    }),
} as unknown as Handler;
const handler = (name: string) => (name === 'remote' ? remote : getHandler(name));

describe('executor: serve handing a run over', () => {
  it('hands a remote step over, cancels a local one, leaves what did not start pending, and emits no run_finished', async () => {
    const ac = new AbortController();
    const assets = [
      asset('job', [], { handler: 'remote' }),
      asset('after', ['true'], { deps: ['job'] }),
      asset('local', ['sleep', '30']),
    ];
    const run = runAssets(assets, { handler, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 500));
    ac.abort(new ServeHandover());
    const { outcome, events } = await run;
    expect(outcome.handedOver).toBe(true);
    expect(statuses(outcome)).toEqual({ job: 'running', after: 'pending', local: 'canceled' });
    expect(outcome.steps.find((s) => s.key === 'job')!.metadata).toEqual({ kubernetes_job: 'data/r-x' });
    expect(events.find((e) => e.type === 'step_canceled')).toMatchObject({ key: 'local', message: 'run canceled (runner serve is stopping)' });
    expect(events.filter((e) => e.key === 'job' && e.type !== 'log').map((e) => e.type)).toEqual(['step_started']);
    expect(events.some((e) => e.type === 'run_finished')).toBe(false);
  });

  it('cancels the run as before when nothing can be handed over', async () => {
    const ac = new AbortController();
    const run = runAssets([asset('local', ['sleep', '30']), asset('next', ['true'], { deps: ['local'] })], { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 300));
    ac.abort(new ServeHandover());
    const { outcome, events } = await run;
    expect(outcome.handedOver).toBeUndefined();
    expect(outcome.status).toBe('canceled');
    expect(statuses(outcome)).toEqual({ local: 'canceled', next: 'canceled' });
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'canceled' });
  });

  it('a cancel that is not a handover ends the remote step', async () => {
    const ac = new AbortController();
    const run = runAssets([asset('job', [], { handler: 'remote' })], { handler, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 200));
    ac.abort('SIGINT');
    const { outcome } = await run;
    expect(outcome.handedOver).toBeUndefined();
    expect(statuses(outcome)).toEqual({ job: 'canceled' });
  });
});

describe('executor: resuming a handed-over run', () => {
  const assets = [asset('first', ['true']), asset('job', [], { handler: 'remote', deps: ['first'] }), asset('after', ['sh', '-c', 'echo after'], { deps: ['job'] }), asset('failed', ['true']), asset('below', ['true'], { deps: ['failed'] })];
  const recorded = new Map([
    ['first', { status: 'success' as const, attempts: 1 }],
    ['job', { status: 'running' as const, attempts: 1 }],
    ['after', { status: 'pending' as const, attempts: 0 }],
    ['failed', { status: 'failure' as const, attempts: 1 }],
    ['below', { status: 'pending' as const, attempts: 0 }],
  ]);

  it('follows the attached attempt, then runs what waited on it; finished steps stay as they were', async () => {
    const attached: AttachedAttempt = async ({ log }) => {
      log('followed again', 'stdout', false, '2026-12-03T14:00:00.5Z');
      return { ok: true, exitCode: 0, metadata: { reattached: true } };
    };
    const { outcome, events } = await runAssets(assets, { handler, resume: { steps: recorded, attached: new Map([['job', attached]]) } });
    expect(statuses(outcome)).toEqual({ first: 'success', job: 'success', after: 'success', failed: 'failure', below: 'skipped' });
    expect(outcome.status).toBe('failure');
    expect(events[0]).toMatchObject({ type: 'run_started', data: { resumed: true } });
    // Nothing already finished runs again; the attached attempt is not started anew.
    expect(events.filter((e) => e.type === 'step_started').map((e) => e.key)).toEqual(['after']);
    expect(events.find((e) => e.type === 'log' && e.key === 'job')).toMatchObject({ line: 'followed again', attempt: 1, source_ts: '2026-12-03T14:00:00.5Z' });
    expect(events.find((e) => e.type === 'step_skipped')).toMatchObject({ key: 'below', message: 'upstream failed failed' });
    expect(events.find((e) => e.type === 'step_succeeded' && e.key === 'job')).toMatchObject({ attempt: 1, data: { metadata: { reattached: true } } });
  });

  it('a failed attached attempt fails its step and skips what waited on it', async () => {
    const only = new Map([...recorded].filter(([k]) => k !== 'failed' && k !== 'below'));
    const attached: AttachedAttempt = async () => ({ ok: false, exitCode: 3, error: 'exit code 3' });
    const { outcome, events } = await runAssets(assets.slice(0, 3), { handler, resume: { steps: only, attached: new Map([['job', attached]]) } });
    expect(statuses(outcome)).toEqual({ first: 'success', job: 'failure', after: 'skipped' });
    expect(outcome.status).toBe('failure');
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'failure' });
  });
});
