/**
 * The executor's side of carrying on a run that a stopped serve handed over (resume.ts is
 * the launch's side): what it is given, and the recorded steps restored into its state.
 */
import type { StepLog, StepResult } from '../handlers/handler.js';
import type { StepStatus } from '../definitions/model.js';
import { FINISHED_STEP_STATUSES } from '../storage/types.js';
import type { StepRun } from './step-run.js';

/** A handed-over run as the next runner finds it. */
export interface ResumeState {
  /** Per key, the recorded status and attempts: finished steps are not run again, the others go on counting attempts. */
  steps: ReadonlyMap<string, { status: StepStatus; attempts: number }>;
  /** Per key, the attempt under way elsewhere (a re-attached Job), followed to its result as if it had started here. */
  attached: ReadonlyMap<string, AttachedAttempt>;
}

/** Follows an attempt that runs elsewhere; aborting `signal` cancels it (or, with a `ServeHandover`, lets it go again). */
export type AttachedAttempt = (ctx: { signal: AbortSignal; log: StepLog }) => Promise<StepResult>;

/**
 * A resumed run's recorded steps: finished ones stay as they are, the others wait only on
 * what did not succeed. Returns how many are finished.
 */
export function restoreSteps(steps: ReadonlyArray<StepRun>, r: ResumeState): number {
  let done = 0;
  const byKey = new Map(steps.map((s) => [s.key, s]));
  for (const s of steps) {
    const rec = r.steps.get(s.key);
    if (!rec) continue;
    s.attempts = rec.attempts;
    if ((FINISHED_STEP_STATUSES as readonly string[]).includes(rec.status)) {
      s.phase = 'done';
      s.status = rec.status;
      done++;
    }
  }
  for (const s of steps) s.waitingOn = s.step.upstream.filter((k) => byKey.get(k)?.status !== 'success').length;
  return done;
}
