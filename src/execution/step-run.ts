/** A step's state while the executor runs its plan (executor.ts), and how it ended. */
import type { StepStatus } from '../definitions/model.js';
import type { LongTimer } from '../util/timers.js';
import type { PlanStep } from './plan.js';

/** How one step ended. */
export interface StepOutcome {
  key: string;
  status: StepStatus;
  attempts: number;
  /** Epoch ms of the first attempt's start and of the end. */
  startedAt?: number;
  endedAt?: number;
  error?: string;
  exitCode?: number | null;
  metadata?: Record<string, unknown>;
}

/**
 * Where a step is in the executor: waiting on upstream steps, in the ready queue, with an
 * attempt under way, waiting for a retry, ended, or handed over to the next serve.
 */
export type Phase = 'waiting' | 'ready' | 'running' | 'backoff' | 'done' | 'handed_over';

/** One step of a running plan: its outcome so far and what the scheduler needs of it. */
export interface StepRun extends StepOutcome {
  step: PlanStep;
  phase: Phase;
  /** Upstream steps not yet succeeded. */
  waitingOn: number;
  /** Aborts the attempt under way. */
  controller?: AbortController;
  /** The timer of the retry it waits for. */
  backoff?: LongTimer;
  /** It holds a slot of its asset's pool. */
  poolHeld: boolean;
}
