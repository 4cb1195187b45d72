/**
 * Passing a pod's timestamped log lines on exactly once across reconnects: `sinceTime`
 * has whole-second precision, so a resumed stream repeats lines; the deduper skips what
 * it passed on, also among lines that share one timestamp, and orders RFC 3339 times whose
 * fractions the kubelet writes with trailing zeros trimmed.
 */
import { describe, expect, it } from 'vitest';
import { LineDeduper, timeKey } from '../../src/launchers/kubernetes/pod-logs.js';

describe('timeKey', () => {
  it('orders trimmed fractions correctly', () => {
    expect(timeKey('2026-12-03T14:00:00.5Z')! > timeKey('2026-12-03T14:00:00.123456789Z')!).toBe(true);
    expect(timeKey('2026-12-03T14:00:01Z')! > timeKey('2026-12-03T14:00:00.999999999Z')!).toBe(true);
    expect(timeKey('not a time')).toBeUndefined();
  });
});

describe('LineDeduper', () => {
  it('skips what a resumed stream repeats, counting lines of the same timestamp', () => {
    const out: string[] = [];
    const d = new LineDeduper((l) => out.push(l));
    expect(d.resumeFrom()).toBeUndefined();
    d.push('2026-12-03T14:00:00.1Z a');
    d.push('2026-12-03T14:00:00.2Z b1');
    d.push('2026-12-03T14:00:00.2Z b2');
    // The stream drops; the next one starts at the whole second and repeats everything.
    expect(d.resumeFrom()).toBe('2026-12-03T14:00:00Z');
    for (const l of ['a', 'b1', 'b2'].map((t, i) => `2026-12-03T14:00:00.${i === 0 ? 1 : 2}Z ${t}`)) d.push(l);
    d.push('2026-12-03T14:00:00.2Z b3');
    d.push('2026-12-03T14:00:01Z c');
    expect(out).toEqual(['a', 'b1', 'b2', 'b3', 'c']);
  });

  it('passes on a line without a timestamp as it is', () => {
    const out: string[] = [];
    new LineDeduper((l) => out.push(l)).push('plain');
    expect(out).toEqual(['plain']);
  });
});
