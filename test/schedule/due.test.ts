import { describe, expect, it } from 'vitest';
import { compileCron, formatInZone } from '../../src/schedule/cron.js';
import { dueTicks, initialCursor } from '../../src/schedule/due.js';

const d = (iso: string) => new Date(iso);
const iso = (ds: Date[]) => ds.map((x) => x.toISOString());
const latest = { policy: 'latest' as const, max: 5 };

describe('dueTicks: live ticking', () => {
  const cron = compileCron('0 */4 * * *', 'UTC');

  it('has nothing due between ticks and says when the next one is', () => {
    const plan = dueTicks({ now: d('2024-05-01T09:59:59Z'), cursor: d('2024-05-01T08:00:00Z'), cron, catchup: latest });
    expect(plan.run).toEqual([]);
    expect(plan.missed).toEqual([]);
    expect(plan.next?.toISOString()).toBe('2024-05-01T12:00:00.000Z');
  });

  it('runs a tick exactly at its time and a little after it', () => {
    for (const now of ['2024-05-01T12:00:00Z', '2024-05-01T12:00:00.900Z', '2024-05-01T12:00:30Z']) {
      const plan = dueTicks({ now: d(now), cursor: d('2024-05-01T11:59:59Z'), cron, catchup: { policy: 'skip', max: 5 } });
      expect(iso(plan.run)).toEqual(['2024-05-01T12:00:00.000Z']);
    }
  });

  it('never returns a tick at or before the cursor (a settled tick does not run twice)', () => {
    const plan = dueTicks({ now: d('2024-05-01T12:00:05Z'), cursor: d('2024-05-01T12:00:00Z'), cron, catchup: latest });
    expect(plan.run).toEqual([]);
  });

  it('reads a six-field expression with seconds', () => {
    const every5s = compileCron('*/5 * * * * *', 'UTC');
    const plan = dueTicks({ now: d('2024-05-01T00:00:05.010Z'), cursor: d('2024-05-01T00:00:04.000Z'), cron: every5s, catchup: latest });
    expect(iso(plan.run)).toEqual(['2024-05-01T00:00:05.000Z']);
    expect(plan.next?.toISOString()).toBe('2024-05-01T00:00:10.000Z');
  });
});

describe('dueTicks: ticks missed while serve was down', () => {
  const nightly = compileCron('0 2 * * *', 'UTC');
  // Down from the 1st 01:00 to the 4th 03:00: the 02:00 ticks of the 1st, 2nd, 3rd and 4th were missed.
  const down = { cursor: d('2024-05-01T01:00:00Z'), now: d('2024-05-04T03:00:00Z'), cron: nightly };

  it('latest runs the most recent missed tick once', () => {
    const plan = dueTicks({ ...down, catchup: { policy: 'latest', max: 5 } });
    expect(iso(plan.run)).toEqual(['2024-05-04T02:00:00.000Z']);
    expect(iso(plan.missed)).toEqual(['2024-05-03T02:00:00.000Z', '2024-05-02T02:00:00.000Z', '2024-05-01T02:00:00.000Z']);
    expect(plan.missedMore).toBe(false);
  });

  it('skip runs none of them', () => {
    const plan = dueTicks({ ...down, catchup: { policy: 'skip', max: 5 } });
    expect(plan.run).toEqual([]);
    expect(plan.missed).toHaveLength(4);
  });

  it('all runs each, oldest first, up to max (the most recent ones)', () => {
    const all = dueTicks({ ...down, catchup: { policy: 'all', max: 10 } });
    expect(iso(all.run)).toEqual(['2024-05-01T02:00:00.000Z', '2024-05-02T02:00:00.000Z', '2024-05-03T02:00:00.000Z', '2024-05-04T02:00:00.000Z']);
    const two = dueTicks({ ...down, catchup: { policy: 'all', max: 2 } });
    expect(iso(two.run)).toEqual(['2024-05-03T02:00:00.000Z', '2024-05-04T02:00:00.000Z']);
    expect(iso(two.missed)).toEqual(['2024-05-02T02:00:00.000Z', '2024-05-01T02:00:00.000Z']);
  });

  it('skip still runs a tick that is on time', () => {
    const plan = dueTicks({ cursor: d('2024-05-01T01:00:00Z'), now: d('2024-05-04T02:00:10Z'), cron: nightly, catchup: { policy: 'skip', max: 5 } });
    expect(iso(plan.run)).toEqual(['2024-05-04T02:00:00.000Z']);
    expect(plan.missed).toHaveLength(3);
  });

  it('bounds the work after a long outage of a frequent schedule', () => {
    const everySecond = compileCron('* * * * * *', 'UTC');
    const plan = dueTicks({ cursor: d('2024-01-01T00:00:00Z'), now: d('2024-05-01T00:00:00Z'), cron: everySecond, catchup: { policy: 'all', max: 3 } });
    expect(iso(plan.run)).toEqual(['2024-04-30T23:59:58.000Z', '2024-04-30T23:59:59.000Z', '2024-05-01T00:00:00.000Z']);
    expect(plan.missed).toHaveLength(100);
    expect(plan.missedMore).toBe(true);
  });
});

describe('dueTicks: daylight saving in America/New_York', () => {
  const tz = 'America/New_York';

  // Walks a fake clock forward minute by minute, settling each tick as the scheduler does.
  function walk(cronText: string, fromIso: string, toIso: string): string[] {
    const cron = compileCron(cronText, tz);
    let cursor = d(fromIso);
    const fired: string[] = [];
    for (let t = cursor.getTime() + 60_000; t <= d(toIso).getTime(); t += 60_000) {
      const now = new Date(t);
      const plan = dueTicks({ now, cursor, cron, catchup: latest });
      fired.push(...plan.run.map((x) => formatInZone(x, tz)));
      cursor = now;
    }
    return fired;
  }

  it('March: a fixed-time job in the spring-forward gap runs right after the gap', () => {
    // 2024-03-10 02:00 EST does not exist; clocks jump to 03:00 EDT.
    expect(walk('30 2 * * *', '2024-03-09T12:00:00Z', '2024-03-11T12:00:00Z')).toEqual([
      '2024-03-10T03:00:00-04:00',
      '2024-03-11T02:30:00-04:00',
    ]);
  });

  it('March: an interval job skips the times that do not exist', () => {
    expect(walk('*/30 1-3 * * *', '2024-03-10T05:00:00Z', '2024-03-10T09:00:00Z')).toEqual([
      '2024-03-10T01:00:00-05:00',
      '2024-03-10T01:30:00-05:00',
      '2024-03-10T03:00:00-04:00',
      '2024-03-10T03:30:00-04:00',
    ]);
  });

  it('November: a fixed-time job in the repeated hour runs once, at the first pass', () => {
    // 2024-11-03 01:00-01:59 happens twice (EDT, then EST).
    expect(walk('30 1 * * *', '2024-11-02T12:00:00Z', '2024-11-04T12:00:00Z')).toEqual([
      '2024-11-03T01:30:00-04:00',
      '2024-11-04T01:30:00-05:00',
    ]);
  });

  it('November: an interval job runs on both passes of the repeated hour', () => {
    expect(walk('*/30 1 * * *', '2024-11-03T04:00:00Z', '2024-11-03T08:00:00Z')).toEqual([
      '2024-11-03T01:00:00-04:00',
      '2024-11-03T01:30:00-04:00',
      '2024-11-03T01:00:00-05:00',
      '2024-11-03T01:30:00-05:00',
    ]);
  });

  it('a missed-tick catch-up across the November change agrees with live ticking', () => {
    const cron = compileCron('*/30 1 * * *', tz);
    const plan = dueTicks({ now: d('2024-11-03T08:00:00Z'), cursor: d('2024-11-03T04:00:00Z'), cron, catchup: { policy: 'all', max: 10 } });
    expect(plan.run.map((x) => formatInZone(x, tz))).toEqual([
      '2024-11-03T01:00:00-04:00',
      '2024-11-03T01:30:00-04:00',
      '2024-11-03T01:00:00-05:00',
      '2024-11-03T01:30:00-05:00',
    ]);
  });
});

describe('initialCursor', () => {
  const now = d('2024-05-01T12:00:00Z');
  it('is now when the schedule never ticked and was never started (default running)', () => {
    expect(initialCursor({ now })).toEqual(now);
  });
  it('is the later of the last tick and the time the schedule was started', () => {
    expect(initialCursor({ now, lastTick: d('2024-05-01T02:00:00Z'), startedAt: d('2024-04-01T00:00:00Z')})).toEqual(d('2024-05-01T02:00:00Z'));
    expect(initialCursor({ now, lastTick: d('2024-04-01T02:00:00Z'), startedAt: d('2024-04-20T00:00:00Z')})).toEqual(d('2024-04-20T00:00:00Z'));
  });
  it('is never after now', () => {
    expect(initialCursor({ now, lastTick: d('2024-06-01T00:00:00Z') })).toEqual(now);
  });
});

describe('formatInZone', () => {
  it('writes the wall-clock time and offset of the zone', () => {
    expect(formatInZone(d('2024-07-01T16:00:00Z'), 'America/New_York')).toBe('2024-07-01T12:00:00-04:00');
    expect(formatInZone(d('2024-01-01T16:00:00Z'), 'UTC')).toBe('2024-01-01T16:00:00Z');
    expect(formatInZone(d('2024-01-01T00:30:00Z'), 'Asia/Kolkata')).toBe('2024-01-01T06:00:00+05:30');
  });
});
