import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { setScheduleStatus, tickHistory } from '../../src/schedule/state.js';
import { silentLogger } from '../../src/serve/log.js';
import type { Definitions } from '../../src/definitions/model.js';
import { FakeLauncher, defsFor, settle, tempDir, type TestSchedule } from './helpers.js';

let root: string;
let stores: Store[];

beforeEach(() => {
  root = tempDir();
  stores = [];
});
afterEach(() => {
  for (const s of stores) s.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function openStore(): Store {
  const s = Store.open(`${root}/home`);
  stores.push(s);
  return s;
}

/** A scheduler on its own store connection with a fake clock. */
function makeScheduler(defs: Definitions, clock: { t: Date }, store = openStore()) {
  const launcher = new FakeLauncher(store);
  const outcomes: string[] = [];
  const scheduler = new Scheduler({ db: store.db, launch: launcher.launch, log: silentLogger, now: () => clock.t, observer: { tick: (_s, o) => outcomes.push(o) } });
  scheduler.setDefinitions(defs);
  return { scheduler, launcher, store, outcomes };
}

const every4h: TestSchedule = { name: 'critical', cron: '0 */4 * * *', default_status: 'running' };

describe('Scheduler', () => {
  it('starts one run per tick, recorded with its run id, and never twice', async () => {
    const defs = await defsFor(root, [every4h]);
    const clock = { t: new Date('2024-05-01T07:59:00Z') };
    const { scheduler, launcher, store } = makeScheduler(defs, clock);
    expect(scheduler.wake()?.toISOString()).toBe('2024-05-01T08:00:00.000Z');
    expect(launcher.requests).toHaveLength(0);
    clock.t = new Date('2024-05-01T08:00:00.020Z');
    scheduler.wake();
    scheduler.wake();
    await settle();
    expect(launcher.requests).toHaveLength(1);
    expect(launcher.requests[0]!.tickTime.toISOString()).toBe('2024-05-01T08:00:00.000Z');
    const [tick] = tickHistory(store.db, 'critical', 10);
    expect(tick).toMatchObject({ tick_time: '2024-05-01T08:00:00.000Z', outcome: 'started', run_id: launcher.requests[0]!.runId });
  });

  it('does not tick a schedule that is stopped by default until it is started', async () => {
    const defs = await defsFor(root, [{ ...every4h, default_status: 'stopped' }]);
    const clock = { t: new Date('2024-05-01T08:00:01Z') };
    const { scheduler, launcher, store } = makeScheduler(defs, clock);
    scheduler.wake();
    expect(launcher.requests).toHaveLength(0);
    setScheduleStatus(store.db, defs.schedules.get('critical')!, 'running', new Date('2024-05-01T09:00:00Z'));
    clock.t = new Date('2024-05-01T09:00:01Z');
    scheduler.wake();
    // Started at 09:00: the 08:00 tick is before its start and is not caught up.
    expect(launcher.requests).toHaveLength(0);
    clock.t = new Date('2024-05-01T12:00:00Z');
    scheduler.wake();
    expect(launcher.requests.map((r) => r.tickTime.toISOString())).toEqual(['2024-05-01T12:00:00.000Z']);
    setScheduleStatus(store.db, defs.schedules.get('critical')!, 'stopped', new Date('2024-05-01T12:30:00Z'));
    clock.t = new Date('2024-05-01T16:00:00Z');
    scheduler.wake();
    expect(launcher.requests).toHaveLength(1);
  });

  it('two schedulers on one store start a tick once', async () => {
    const defs = await defsFor(root, [every4h]);
    const clock = { t: new Date('2024-05-01T07:59:59Z') };
    const a = makeScheduler(defs, clock);
    const b = makeScheduler(defs, clock);
    a.scheduler.wake();
    b.scheduler.wake();
    for (const t of ['2024-05-01T08:00:00.001Z', '2024-05-01T12:00:00.002Z', '2024-05-01T16:00:00.003Z']) {
      clock.t = new Date(t);
      b.scheduler.wake();
      a.scheduler.wake();
      for (const r of [...a.launcher.running]) a.launcher.finish(r, 'success');
      for (const r of [...b.launcher.running]) b.launcher.finish(r, 'success');
      await settle();
    }
    const all = [...a.launcher.requests, ...b.launcher.requests].map((r) => r.tickTime.toISOString()).sort();
    expect(all).toEqual(['2024-05-01T08:00:00.000Z', '2024-05-01T12:00:00.000Z', '2024-05-01T16:00:00.000Z']);
    expect(b.launcher.requests).toHaveLength(3); // b looked first each time
  });

  it('a restart in the middle of a tick does not start it again, and catches up only what is new', async () => {
    const defs = await defsFor(root, [every4h]);
    const clock = { t: new Date('2024-05-01T08:00:00.010Z') };
    const first = makeScheduler(defs, clock);
    first.scheduler.setDefinitions(defs);
    // Seed the cursor before the tick, then fire it.
    clock.t = new Date('2024-05-01T07:59:00Z');
    first.scheduler.wake();
    clock.t = new Date('2024-05-01T08:00:00.010Z');
    first.scheduler.wake();
    expect(first.launcher.requests).toHaveLength(1);
    // The process dies here (its run is left behind); a new one starts a second later.
    clock.t = new Date('2024-05-01T08:00:01Z');
    const second = makeScheduler(defs, clock);
    second.scheduler.wake();
    expect(second.launcher.requests).toHaveLength(0);
    clock.t = new Date('2024-05-01T12:00:00.500Z');
    second.launcher.immediate = { status: 'success' };
    first.launcher.finish(first.launcher.requests[0]!.runId, 'success');
    second.scheduler.wake();
    expect(second.launcher.requests.map((r) => r.tickTime.toISOString())).toEqual(['2024-05-01T12:00:00.000Z']);
  });

  it('overlap skip records the skipped tick with the running run', async () => {
    const defs = await defsFor(root, [{ name: 'fast', cron: '*/10 * * * *', default_status: 'running', overlap: 'skip' }]);
    const clock = { t: new Date('2024-05-01T00:05:00Z') };
    const { scheduler, launcher, store, outcomes } = makeScheduler(defs, clock);
    scheduler.wake();
    clock.t = new Date('2024-05-01T00:10:00Z');
    scheduler.wake();
    const runId = launcher.requests[0]!.runId;
    clock.t = new Date('2024-05-01T00:20:00Z');
    scheduler.wake();
    expect(launcher.requests).toHaveLength(1);
    const [latest] = tickHistory(store.db, 'fast', 1);
    expect(latest).toMatchObject({ tick_time: '2024-05-01T00:20:00.000Z', outcome: 'skipped', run_id: null });
    expect(latest!.reason).toContain(runId);
    expect(outcomes).toEqual(['started', 'skipped']);
  });

  it('overlap queue starts the tick when the previous run ends, and holds one tick at most', async () => {
    const defs = await defsFor(root, [{ name: 'q', cron: '*/10 * * * *', default_status: 'running', overlap: 'queue' }]);
    const clock = { t: new Date('2024-05-01T00:05:00Z') };
    const { scheduler, launcher, store } = makeScheduler(defs, clock);
    scheduler.wake();
    clock.t = new Date('2024-05-01T00:10:00Z');
    scheduler.wake();
    clock.t = new Date('2024-05-01T00:20:00Z');
    scheduler.wake();
    clock.t = new Date('2024-05-01T00:30:00Z');
    scheduler.wake();
    expect(launcher.requests).toHaveLength(1);
    const history = tickHistory(store.db, 'q', 10);
    expect(history.map((t) => [t.tick_time.slice(11, 16), t.outcome])).toEqual([
      ['00:30', 'skipped'],
      ['00:20', 'queued'],
      ['00:10', 'started'],
    ]);
    expect(history[0]!.reason).toContain('already queued');
    launcher.finish(launcher.requests[0]!.runId, 'success');
    await settle();
    await settle();
    clock.t = new Date('2024-05-01T00:31:00Z');
    scheduler.wake();
    expect(launcher.requests.map((r) => r.tickTime.toISOString())).toEqual(['2024-05-01T00:10:00.000Z', '2024-05-01T00:20:00.000Z']);
    expect(tickHistory(store.db, 'q', 10)[1]).toMatchObject({ outcome: 'started', run_id: launcher.requests[1]!.runId });
  });

  it('catches up ticks missed while down as the policy says', async () => {
    for (const [catchup, expected] of [
      [{ policy: 'latest' }, ['2024-05-04T02:00:00.000Z']],
      [{ policy: 'skip' }, []],
      [{ policy: 'all', max: 2 }, ['2024-05-03T02:00:00.000Z', '2024-05-04T02:00:00.000Z']],
    ] as const) {
      fs.rmSync(`${root}/home`, { recursive: true, force: true });
      const defs = await defsFor(root, [{ name: 'nightly', cron: '0 2 * * *', default_status: 'running', catchup }]);
      const clock = { t: new Date('2024-05-01T01:59:00Z') };
      const before = makeScheduler(defs, clock);
      before.launcher.immediate = { status: 'success' };
      before.scheduler.wake();
      clock.t = new Date('2024-05-01T02:00:00.005Z');
      before.scheduler.wake();
      expect(before.launcher.requests).toHaveLength(1);
      // Down from the 1st to the 4th, 03:00.
      clock.t = new Date('2024-05-04T03:00:00Z');
      const after = makeScheduler(defs, clock);
      after.launcher.immediate = { status: 'success' };
      const missed: number[] = [];
      const sched = new Scheduler({ db: after.store.db, launch: after.launcher.launch, log: silentLogger, now: () => clock.t, observer: { missed: (_s, n) => missed.push(n) } });
      sched.setDefinitions(defs);
      sched.wake();
      // Catch-up runs go one after the other.
      for (let i = 0; i < 3; i++) {
        await settle();
        await settle();
        sched.wake();
      }
      expect(after.launcher.requests.map((r) => r.tickTime.toISOString())).toEqual(expected);
      // The 2nd, 3rd and 4th were missed; what does not run is reported.
      expect(missed).toEqual([3 - expected.length]);
      for (const s of stores.splice(0)) s.close();
    }
  });

  it('a schedule removed by a reload stops ticking; a changed cron applies', async () => {
    const defs = await defsFor(root, [every4h]);
    const clock = { t: new Date('2024-05-01T07:00:00Z') };
    const { scheduler, launcher } = makeScheduler(defs, clock);
    launcher.immediate = { status: 'success' };
    scheduler.wake();
    scheduler.setDefinitions(await defsFor(root, [{ ...every4h, cron: '30 7 * * *' }]));
    clock.t = new Date('2024-05-01T07:30:00.001Z');
    scheduler.wake();
    expect(launcher.requests.map((r) => r.tickTime.toISOString())).toEqual(['2024-05-01T07:30:00.000Z']);
    scheduler.setDefinitions(await defsFor(root, []));
    clock.t = new Date('2024-05-02T07:30:00.001Z');
    expect(scheduler.wake()).toBeNull();
    expect(launcher.requests).toHaveLength(1);
  });

  it('records a tick whose run could not start as failed, with the reason', async () => {
    const defs = await defsFor(root, [every4h]);
    const clock = { t: new Date('2024-05-01T07:59:00Z') };
    const { scheduler, launcher, store, outcomes } = makeScheduler(defs, clock);
    launcher.immediate = { status: 'not_started', error: 'environment `prod` does not exist' };
    scheduler.wake();
    clock.t = new Date('2024-05-01T08:00:00Z');
    scheduler.wake();
    await settle();
    await settle();
    expect(tickHistory(store.db, 'critical', 1)[0]).toMatchObject({ outcome: 'failed', reason: 'environment `prod` does not exist', run_id: null });
    expect(outcomes).toEqual(['started', 'failed']);
  });

  it('drain waits for runs within the grace period, then cancels the rest', async () => {
    const defs = await defsFor(root, [every4h, { ...every4h, name: 'other' }]);
    const clock = { t: new Date('2024-05-01T07:59:00Z') };
    const { scheduler, launcher } = makeScheduler(defs, clock);
    scheduler.wake();
    clock.t = new Date('2024-05-01T08:00:00Z');
    scheduler.wake();
    expect(launcher.running).toHaveLength(2);
    const [quick] = launcher.running;
    setTimeout(() => launcher.finish(quick!, 'success'), 20);
    const result = await scheduler.drain(200);
    expect(result).toEqual({ finished: 1, canceled: 1 });
    expect(scheduler.activeRuns()).toHaveLength(0);
    // Nothing ticks after a drain.
    clock.t = new Date('2024-05-01T12:00:00Z');
    scheduler.wake();
    expect(launcher.requests).toHaveLength(2);
  });
});
