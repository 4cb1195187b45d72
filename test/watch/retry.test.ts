import { describe, expect, it } from 'vitest';
import { attemptText, firstVerdict, pendingVerdict } from '../../src/watch/retry.js';

const tags = (o: Record<string, string>) => Object.entries(o).map(([key, value]) => ({ key, value }));
const MIN = 60_000;

describe('firstVerdict', () => {
  it("holds the alert back only for Dagster's own dagster/will_retry=true", () => {
    expect(firstVerdict({ tags: tags({ 'dagster/will_retry': 'true' }) })).toMatchObject({ kind: 'pending' });
    expect(firstVerdict({ tags: tags({ 'dagster/will_retry': 'True' }) })).toMatchObject({ kind: 'pending' });
    expect(firstVerdict({ tags: tags({ 'dagster/will_retry': 'false', 'dagster/max_retries': '3' }) })).toEqual({ kind: 'alert' });
    // Retries disabled on the instance: no will_retry tag, whatever max_retries says.
    expect(firstVerdict({ tags: tags({ 'dagster/max_retries': '3' }) })).toEqual({ kind: 'alert' });
    expect(firstVerdict({ tags: tags({ 'dagster/max_retries': '3', 'dagster/retry_number': '1' }) })).toEqual({ kind: 'alert' });
    expect(firstVerdict({ tags: [] })).toEqual({ kind: 'alert' });
  });
});

describe('pendingVerdict', () => {
  const promised = (extra: Record<string, string> = {}) => ({ status: 'FAILURE', tags: tags({ 'dagster/will_retry': 'true', ...extra }) });

  it('waits while the retry is not submitted, and settles once it has started', () => {
    expect(pendingVerdict({ run: promised(), waitedMs: MIN, maxWaitMs: 15 * MIN })).toMatchObject({ kind: 'pending' });
    const withRetry = promised({ 'dagster/auto_retry_run_id': 'r2' });
    expect(pendingVerdict({ run: withRetry, retry: { runId: 'r2', status: 'NOT_STARTED' }, waitedMs: MIN, maxWaitMs: 15 * MIN })).toMatchObject({ kind: 'pending' });
    for (const status of ['QUEUED', 'STARTING', 'STARTED', 'SUCCESS', 'FAILURE', 'CANCELED']) {
      expect(pendingVerdict({ run: withRetry, retry: { runId: 'r2', status }, waitedMs: MIN, maxWaitMs: 15 * MIN })).toEqual({ kind: 'retried', reason: `Dagster retried it as run r2 (${status})` });
    }
  });

  it('alerts when Dagster takes the retry back, the run vanishes, or the wait runs out', () => {
    expect(pendingVerdict({ run: { status: 'FAILURE', tags: tags({ 'dagster/will_retry': 'false' }) }, waitedMs: 0, maxWaitMs: 15 * MIN })).toMatchObject({ kind: 'alert', note: expect.stringContaining('Dagster took its retry back (dagster/will_retry=false)') });
    // Taken back after the retry was created but not submitted: will_retry=false wins over the retry's existence.
    expect(pendingVerdict({ run: { status: 'FAILURE', tags: tags({ 'dagster/will_retry': 'false', 'dagster/auto_retry_run_id': 'r2' }) }, retry: { runId: 'r2', status: 'NOT_STARTED' }, waitedMs: 0, maxWaitMs: 15 * MIN })).toMatchObject({ kind: 'alert' });
    expect(pendingVerdict({ run: null, waitedMs: 0, maxWaitMs: 15 * MIN })).toMatchObject({ kind: 'alert', note: expect.stringContaining('no longer has it') });
    expect(pendingVerdict({ run: promised(), waitedMs: 15 * MIN, maxWaitMs: 15 * MIN })).toMatchObject({ kind: 'alert', note: expect.stringContaining('no retry was launched within 15 min: is dagster-daemon running?; or the job') });
    expect(pendingVerdict({ run: promised({ 'dagster/auto_retry_run_id': 'r2' }), retry: null, waitedMs: 20 * MIN, maxWaitMs: 15 * MIN })).toMatchObject({ kind: 'alert', note: expect.stringContaining('its retry run r2 does not exist') });
    expect(pendingVerdict({ run: promised({ 'dagster/auto_retry_run_id': 'r2' }), retry: { runId: 'r2', status: 'NOT_STARTED' }, waitedMs: 20 * MIN, maxWaitMs: 15 * MIN })).toMatchObject({ kind: 'alert', note: expect.stringContaining('its retry run r2 never started') });
    expect(pendingVerdict({ run: promised({ 'dagster/backfill': 'bf1' }), waitedMs: 15 * MIN, maxWaitMs: 15 * MIN })).toMatchObject({ kind: 'alert', note: expect.stringContaining('belongs to backfill bf1') });
  });
});

describe('attemptText', () => {
  it('names the attempt of an automatic retry', () => {
    expect(attemptText(tags({ 'dagster/retry_number': '2', 'dagster/root_run_id': 'abcdef12-3456' }))).toBe('attempt 3 (retry 2 of run abcdef12)');
    expect(attemptText(tags({ 'dagster/retry_number': '1' }))).toBe('attempt 2 (retry 1)');
    expect(attemptText(tags({ 'dagster/retry_number': 'x' }))).toBeUndefined();
    expect(attemptText([])).toBeUndefined();
  });
});
