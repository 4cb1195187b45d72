/**
 * Passing a pod's timestamped log lines on exactly once across reconnects: `sinceTime`
 * has whole-second precision, so a resumed stream repeats lines; the deduper skips what
 * it passed on, also among lines that share one timestamp, and orders RFC 3339 times whose
 * fractions the kubelet writes with trailing zeros trimmed.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LineDeduper, timeKey } from '../../src/launchers/kubernetes/pod-logs.js';
import { LINE_INDEX_SUFFIX, LogWriter, lastSourceTime } from '../../src/storage/logs.js';

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

  it('resumes after a restart from the last recorded timestamp, skipping as many lines of it as were recorded', () => {
    const out: string[] = [];
    const d = new LineDeduper((l) => out.push(l), { time: '2026-12-03T14:00:00.2Z', count: 2 });
    expect(d.resumeFrom()).toBe('2026-12-03T14:00:00Z');
    for (const l of ['00.1Z a', '00.2Z b1', '00.2Z b2', '00.2Z b3', '01Z c']) d.push(`2026-12-03T14:00:${l}`);
    expect(out).toEqual(['b3', 'c']);
  });
});

describe('the step log index keeps the source time of each stamped line', () => {
  it('gives the last one and how many lines carry it, also across a reopened file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'log-src-'));
    try {
      const file = path.join(dir, 'a__b.log');
      const w = new LogWriter();
      expect(lastSourceTime(file)).toBeUndefined();
      w.append(file, '[runner] Job started', false, 'stderr');
      w.append(file, 'one', false, 'stdout', '2026-12-03T14:00:00.1Z');
      w.append(file, 'two', false, 'stdout', '2026-12-03T14:00:00.2Z');
      w.finish(file);
      w.append(file, 'three', false, 'stdout', '2026-12-03T14:00:00.2Z');
      w.append(file, '[runner] note', false, 'stderr');
      w.close();
      expect(lastSourceTime(file)).toEqual({ time: '2026-12-03T14:00:00.2Z', count: 2 });
      expect(readFileSync(file, 'utf8')).toBe('[runner] Job started\none\ntwo\nthree\n[runner] note\n');
      // Each stamped line has its record, numbered across the reopen.
      expect(readFileSync(file + LINE_INDEX_SUFFIX, 'utf8')).toMatch(/^0 \d+ stderr\n1 \d+ stdout 2026-12-03T14:00:00\.1Z\n2 \d+ stdout 2026-12-03T14:00:00\.2Z\n3 \d+ stdout 2026-12-03T14:00:00\.2Z\n4 \d+ stderr\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
