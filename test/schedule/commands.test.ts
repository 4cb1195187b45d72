import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { InputError } from '../../src/diagnostics/diagnostic.js';
import {
  changeScheduleStatus,
  findSchedule,
  formatHistory,
  formatPreview,
  formatScheduleList,
  scheduleHistory,
  scheduleList,
  schedulePreview,
} from '../../src/schedule/commands.js';
import { claimTick } from '../../src/schedule/state.js';
import { heartbeat } from '../../src/serve/presence.js';
import { defsFor, tempDir } from './helpers.js';

let root: string;
let store: Store;

beforeEach(() => {
  root = tempDir();
  store = Store.open(`${root}/home`);
});
afterEach(() => {
  store.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const schedules = [
  { name: 'critical_metadata_schedule', cron: '0 */4 * * *' },
  { name: 'metadata_ingestion_schedule', cron: '0 2 * * *', timezone: 'America/New_York', default_status: 'running' as const },
];

describe('runner schedule', () => {
  it('lists status, next three ticks in the time zone and the last tick', async () => {
    const defs = await defsFor(root, schedules);
    const now = new Date('2024-03-09T12:00:00Z');
    claimTick(store.db, 'metadata_ingestion_schedule', new Date('2024-03-09T07:00:00Z'), now, () => ({ outcome: 'skipped', reason: 'the previous run r1 is still running' }));
    const doc = scheduleList(defs, store.db, now);
    expect(doc.schedules.map((s) => [s.name, s.status, s.status_source])).toEqual([
      ['critical_metadata_schedule', 'stopped', 'default'],
      ['metadata_ingestion_schedule', 'running', 'default'],
    ]);
    const nightly = doc.schedules[1]!;
    // Across the March change: 02:00 does not exist on the 10th, so croner runs at 03:00 EDT.
    expect(nightly.next_ticks.map((t) => t.local)).toEqual(['2024-03-10T03:00:00-04:00', '2024-03-11T02:00:00-04:00', '2024-03-12T02:00:00-04:00']);
    expect(nightly.next_ticks[0]!.time).toBe('2024-03-10T07:00:00.000Z');
    expect(nightly.last_tick).toMatchObject({ local: '2024-03-09T02:00:00-05:00', outcome: 'skipped', reason: 'the previous run r1 is still running', run_id: null });
    const text = formatScheduleList(doc);
    expect(text).toContain('metadata_ingestion_schedule  running (default)  job demo_job');
    expect(text).toContain('  cron 0 2 * * * in America/New_York; overlap skip; catchup latest');
    expect(text).toContain('  last tick: 2024-03-09T02:00:00-05:00 skipped: the previous run r1 is still running');
    expect(text).toContain('critical_metadata_schedule  stopped (default)');
    expect(text).toContain('(if started)');
    expect(text.trimEnd().split('\n').at(-1)).toBe('runner serve: not running on this store (running schedules tick once it starts)');
    heartbeat(store.db, { id: 'serve-1', address: 'http://127.0.0.1:3070', startedAt: now }, now);
    const withServe = scheduleList(defs, store.db, now);
    expect(withServe.serves).toEqual([expect.objectContaining({ pid: process.pid, address: 'http://127.0.0.1:3070' })]);
    expect(formatScheduleList(withServe)).toMatch(/runner serve: pid \d+ on .* at http:\/\/127\.0\.0\.1:3070\n$/);
  });

  it('starts and stops: the stored status overrides default_status, and says whether serve runs', async () => {
    const defs = await defsFor(root, schedules);
    const def = findSchedule(defs, 'critical_metadata_schedule');
    const now = new Date('2024-05-01T10:00:00Z');
    const started = changeScheduleStatus(def, store.db, 'running', now);
    expect(started).toContain('Schedule critical_metadata_schedule started (was stopped).');
    expect(started).toContain('Next tick: 2024-05-01T12:00:00Z.');
    expect(started).toContain('No runner serve is running on this store');
    expect(scheduleList(defs, store.db, now).schedules[0]).toMatchObject({ status: 'running', status_source: 'set', status_changed_at: now.toISOString() });
    expect(changeScheduleStatus(def, store.db, 'running', now)).toContain('is already running');

    heartbeat(store.db, { id: 'serve-1', address: 'http://127.0.0.1:3070', startedAt: now }, now);
    const stopped = changeScheduleStatus(def, store.db, 'stopped', new Date(now.getTime() + 1000));
    expect(stopped).toContain('Schedule critical_metadata_schedule stopped (was running).');
    expect(stopped).toMatch(/running runner serve \(pid \d+ on .* at http:\/\/127\.0\.0\.1:3070\) picks this up/);
    // A default-running schedule stopped by hand stays stopped.
    changeScheduleStatus(findSchedule(defs, 'metadata_ingestion_schedule'), store.db, 'stopped', now);
    expect(scheduleList(defs, store.db, now).schedules.map((s) => s.status)).toEqual(['stopped', 'stopped']);
  });

  it('previews ticks across the November change in the schedule time zone', async () => {
    const defs = await defsFor(root, [{ name: 'half_hourly', cron: '*/30 1 * * *', timezone: 'America/New_York' }]);
    const p = schedulePreview(findSchedule(defs, 'half_hourly'), 4, new Date('2024-11-03T04:00:00Z'));
    expect(p.ticks.map((t) => t.local)).toEqual(['2024-11-03T01:00:00-04:00', '2024-11-03T01:30:00-04:00', '2024-11-03T01:00:00-05:00', '2024-11-03T01:30:00-05:00']);
    expect(formatPreview(p)).toBe(
      [
        'Next 4 ticks of half_hourly (*/30 1 * * * in America/New_York):',
        '  2024-11-03T01:00:00-04:00  (2024-11-03T05:00:00.000Z)',
        '  2024-11-03T01:30:00-04:00  (2024-11-03T05:30:00.000Z)',
        '  2024-11-03T01:00:00-05:00  (2024-11-03T06:00:00.000Z)',
        '  2024-11-03T01:30:00-05:00  (2024-11-03T06:30:00.000Z)',
        '',
      ].join('\n'),
    );
  });

  it('shows history newest first with run ids and skip reasons', async () => {
    const defs = await defsFor(root, schedules);
    const def = findSchedule(defs, 'critical_metadata_schedule');
    const now = new Date('2024-05-01T10:00:00Z');
    store.createRun({ id: 'run-1', trigger: { type: 'schedule', schedule: def.name, tick: '2024-05-01T04:00:00.000Z' }, env: 'dev', selection: 'demo/*', keys: ['demo/a'], pipelinesDir: root });
    claimTick(store.db, def.name, new Date('2024-05-01T04:00:00Z'), now, () => ({ outcome: 'started', run_id: 'run-1' }));
    claimTick(store.db, def.name, new Date('2024-05-01T08:00:00Z'), now, () => ({ outcome: 'skipped', reason: 'the previous run run-1 is still running' }));
    const h = scheduleHistory(def, store.db, 10);
    expect(h.ticks.map((t) => [t.local, t.outcome, t.run_id, t.run_status])).toEqual([
      ['2024-05-01T08:00:00Z', 'skipped', null, null],
      ['2024-05-01T04:00:00Z', 'started', 'run-1', 'queued'],
    ]);
    expect(formatHistory(h).split('\n')).toEqual([
      'TICK (UTC)            OUTCOME  RUN / REASON',
      '2024-05-01T08:00:00Z  skipped  the previous run run-1 is still running',
      '2024-05-01T04:00:00Z  started  run-1 (queued)',
      '',
    ]);
    expect(scheduleHistory(def, store.db, 1).ticks).toHaveLength(1);
  });

  it('names the closest schedules for an unknown one', async () => {
    const defs = await defsFor(root, schedules);
    let err: unknown;
    try {
      findSchedule(defs, 'critical_metadata_schedul');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain("unknown schedule `critical_metadata_schedul` (did you mean 'critical_metadata_schedule'?)");
  });

  it('a tick is claimed once: the second claim finds it taken', async () => {
    const t = new Date('2024-05-01T08:00:00Z');
    expect(claimTick(store.db, 's', t, t, () => ({ outcome: 'started', run_id: 'a' }))).toEqual({ outcome: 'started', run_id: 'a' });
    let asked = false;
    expect(
      claimTick(store.db, 's', t, t, () => {
        asked = true;
        return { outcome: 'started', run_id: 'b' };
      }),
    ).toBeUndefined();
    expect(asked).toBe(false);
  });
});
