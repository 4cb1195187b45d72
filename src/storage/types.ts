/**
 * The shapes of recorded runs: what `runner runs --json` and `runner show --json` print
 * and what the UI reads (docs/api.md, "Runs and steps (JSON)"). Field names and status
 * words are DESIGN.md's; times are ISO 8601 strings.
 */
import type { RunStatus, StepStatus } from '../definitions/model.js';

export type { RunStatus, StepStatus };

/** What started a run: a person, a schedule's tick, or `runner retry` of an earlier run. */
export type Trigger = { type: 'manual' } | { type: 'schedule'; schedule: string; tick: string /* ISO */ } | { type: 'retry'; retry_of: string };

/** What the executor knows about a run before it starts: `Store.createRun`'s input. */
export interface RunMeta {
  /** A UUID. */
  id: string;
  trigger: Trigger;
  /** The environment's name. */
  env: string;
  /** The selection expression as given (for a job, the job's). */
  selection: string;
  /** The job's name when the run is a job's. */
  job?: string;
  /** Asset keys in plan order: one step each. */
  keys: string[];
  /** The pipelines directory, absolute (kept for the UI and reruns; not part of the JSON). */
  pipelinesDir: string;
}

/** One step of a run: one asset. */
export interface StepRecord {
  key: string;
  status: StepStatus;
  /** Attempts started so far (0 until the first). */
  attempts: number;
  /** When the first attempt started. */
  started_at: string | null;
  /** When the step reached its final status. */
  ended_at: string | null;
  exit_code: number | null;
  /** The handler's structured results (records, warnings, ...). */
  metadata: Record<string, unknown> | null;
  /** Why the step failed, was skipped or canceled (masked). */
  error: string | null;
  /** The absolute path of the step's log file (it may not exist if the step never ran). */
  log: string;
}

/** Whether the failure alert of a run went out. */
export interface AlertRecord {
  /** `sent`: delivered; `failed`: delivery failed; `printed`: shown on the console only; `none`: no notification applies. */
  status: 'sent' | 'failed' | 'printed' | 'none';
  /** The delivery error, or where it went; never a secret (no webhook URL). */
  detail?: string;
  at?: string;
}

/** A recorded run. */
export interface RunRecord {
  id: string;
  status: RunStatus;
  trigger: Trigger;
  /** The run whose unsucceeded steps this run re-executes (`runner retry`), else null. */
  retry_of: string | null;
  env: string;
  selection: string;
  job: string | null;
  started_at: string | null;
  ended_at: string | null;
  /** Why the run failed as a whole (e.g. `the runner exited`), else null. */
  error: string | null;
  alert: AlertRecord | null;
  steps: StepRecord[];
}

/** The statuses after which a run or step changes no more. */
export const FINISHED_RUN_STATUSES: readonly RunStatus[] = ['success', 'failure', 'canceled'];
export const FINISHED_STEP_STATUSES: readonly StepStatus[] = ['success', 'failure', 'skipped', 'canceled'];

/** True when a run will change no more. */
export function isFinished(status: RunStatus): boolean {
  return FINISHED_RUN_STATUSES.includes(status);
}
