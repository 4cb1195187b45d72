/**
 * Whether Dagster will retry a failed run, as Dagster itself decides it (read from
 * `dagster/_core/execution/retries.py`, `_core/instance/methods/event_methods.py` and
 * `_daemon/auto_run_reexecution/auto_run_reexecution.py` of Dagster 1.11.13 and 1.13.28,
 * identical in both; see docs/dagster-alerts.md):
 *
 * - Only an instance with `run_retries.enabled` writes `dagster/will_retry`, right after
 *   it stores the run's failure (`true`/`false` from `auto_reexecution_should_retry_run`,
 *   which counts the runs of the run group, manual re-executions included, against
 *   `dagster/max_retries`, and refuses a step failure when
 *   `dagster/retry_on_asset_or_op_failure` is false). Without the tag Dagster does not retry.
 * - The daemon retries runs tagged `true`: it creates the retry, tags the failed run
 *   `dagster/auto_retry_run_id`, and submits the retry. When that raises, it tags the failed
 *   run `dagster/will_retry=false` and never tries again: the retry is taken back.
 *
 * So `true` is a promise, not a fact: the watcher keeps such a run pending and re-reads it
 * until the retry has started (then the retry's own outcome carries the alert), Dagster
 * takes the promise back, or the wait runs out (both alert).
 */
import type { DagsterRunSummary, DagsterTag } from './dagster-client.js';

/** Dagster's own run tags (stable strings; Dagster's constants are private). */
export const DAGSTER_TAGS = {
  willRetry: 'dagster/will_retry',
  autoRetryRunId: 'dagster/auto_retry_run_id',
  retryNumber: 'dagster/retry_number',
  maxRetries: 'dagster/max_retries',
  parentRunId: 'dagster/parent_run_id',
  rootRunId: 'dagster/root_run_id',
  failureReason: 'dagster/failure_reason',
  backfill: 'dagster/backfill',
  schedule: 'dagster/schedule_name',
  sensor: 'dagster/sensor_name',
} as const;

/** What the watcher does with a failed run, given what Dagster says about retrying it. */
export type RetryVerdict =
  /** Dagster will not retry it: alert (`note` says why, when it is not the plain case). */
  | { kind: 'alert'; note?: string }
  /** Dagster says it will retry it, and the retry has not started yet: look again later. */
  | { kind: 'pending'; reason: string }
  /** The retry has started: no alert for this attempt (the retry's failure alerts). */
  | { kind: 'retried'; reason: string };

/** The value of a run's tag. */
export function tagValue(tags: DagsterTag[], key: string): string | undefined {
  return tags.find((t) => t.key === key)?.value;
}

/** Dagster's `get_boolean_tag_value`: true only for "true" (any case), the default when absent. */
function booleanTag(value: string | undefined): boolean {
  return value !== undefined && value.trim().toLowerCase() === 'true';
}

/** The verdict on a failed run as first listed: only `dagster/will_retry=true` holds the alert back. */
export function firstVerdict(run: Pick<DagsterRunSummary, 'tags'>): RetryVerdict {
  if (!booleanTag(tagValue(run.tags, DAGSTER_TAGS.willRetry))) return { kind: 'alert' };
  return { kind: 'pending', reason: `Dagster will retry it (${DAGSTER_TAGS.willRetry}=true)` };
}

/** What a later poll knows about a pending run. */
export interface PendingView {
  /** The failed run as Dagster has it now; null when Dagster no longer has it. */
  run: Pick<DagsterRunSummary, 'tags' | 'status'> | null;
  /** The run named by its `dagster/auto_retry_run_id`: null when not found, undefined when there is no such tag. */
  retry?: Pick<DagsterRunSummary, 'runId' | 'status'> | null;
  /** How long the run has been pending. */
  waitedMs: number;
  /** How long a retry may take to start before the watcher alerts anyway. */
  maxWaitMs: number;
}

/** A retry run that has left NOT_STARTED was submitted: Dagster can no longer take it back. */
const NOT_SUBMITTED = new Set(['NOT_STARTED']);

/** The verdict on a pending run when it is read again. */
export function pendingVerdict(v: PendingView): RetryVerdict {
  if (v.run === null) return { kind: 'alert', note: 'Dagster was going to retry this run, but no longer has it (deleted?): no retry can be confirmed.' };
  if (!booleanTag(tagValue(v.run.tags, DAGSTER_TAGS.willRetry))) return { kind: 'alert', note: takenBackNote(v.run.tags) };
  if (v.retry && !NOT_SUBMITTED.has(v.retry.status)) return { kind: 'retried', reason: `Dagster retried it as run ${v.retry.runId} (${v.retry.status})` };
  if (v.waitedMs >= v.maxWaitMs) {
    const minutes = Math.round(v.maxWaitMs / 60_000);
    const what = v.retry === undefined ? 'no retry was launched' : v.retry === null ? `its retry run ${tagValue(v.run.tags, DAGSTER_TAGS.autoRetryRunId)} does not exist` : `its retry run ${v.retry.runId} never started`;
    // The daemon also gives up without a word when the job or its repository is gone, or the run's backfill has ended.
    const backfill = tagValue(v.run.tags, DAGSTER_TAGS.backfill);
    const why = backfill ? `; the run belongs to backfill ${backfill}, and Dagster does not retry runs of a backfill that has ended` : '; or the job or its code location was renamed or removed';
    return { kind: 'alert', note: `Dagster tagged this run ${DAGSTER_TAGS.willRetry}=true, but ${what} within ${minutes} min: is dagster-daemon running?${why}.` };
  }
  return { kind: 'pending', reason: `Dagster will retry it (${DAGSTER_TAGS.willRetry}=true), waiting for the retry to start` };
}

/** Why a run once due for a retry is alerted after all: Dagster's daemon could not launch the retry. */
export function takenBackNote(tags: DagsterTag[]): string {
  return `Dagster took its retry back (${DAGSTER_TAGS.willRetry}=${tagValue(tags, DAGSTER_TAGS.willRetry) ?? 'removed'}): launching the retry failed, so this failure is final.`;
}

/** "attempt 2 (retry 1 of run 8efc0bf2)" for a run that is an automatic retry, else undefined. */
export function attemptText(tags: DagsterTag[]): string | undefined {
  const n = Number(tagValue(tags, DAGSTER_TAGS.retryNumber));
  if (!Number.isInteger(n) || n <= 0) return undefined;
  const root = tagValue(tags, DAGSTER_TAGS.rootRunId);
  return `attempt ${n + 1} (retry ${n}${root ? ` of run ${root.split('-')[0]}` : ''})`;
}
