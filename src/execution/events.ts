/**
 * The one stream of run events. The executor is the only producer; storage, the live
 * renderer and the notifier are consumers. Nothing else writes run state. Field names
 * are those of `--output json` (one event per line, see docs/api.md).
 */
import type { RunStatus, StepStatus } from '../definitions/model.js';

export type RunEventType =
  | 'run_started'
  | 'run_finished'
  | 'step_started'
  | 'log'
  | 'retry_scheduled'
  | 'step_succeeded'
  | 'step_failed'
  | 'step_skipped'
  | 'step_canceled';

/** One event. `ts` is ISO 8601. Optional fields appear only where they mean something. */
export interface RunEvent {
  ts: string;
  type: RunEventType;
  run_id: string;
  key?: string;
  attempt?: number;
  /** The run's status (run_started/run_finished) or the step's (step_* events). */
  status?: RunStatus | StepStatus;
  /** A failure, skip or retry reason; already masked. */
  message?: string;
  /** One line of a step's output (type `log`); already masked. */
  line?: string;
  /** `stdout` or `stderr`, with `line`. */
  stream?: 'stdout' | 'stderr';
  /** With `line`: no newline followed this text in the output (a piece of a very long line, or output that ended without one). */
  partial?: boolean;
  /** With `line`: when its source wrote it, as the source stamped it (a pod log line's RFC 3339 time); only when known. */
  source_ts?: string;
  /** Extra structured data (step metadata, exit code, retry delay, process ids). */
  data?: Record<string, unknown>;
}

/** Something that consumes the event stream. */
export interface EventSink {
  /** Called synchronously, in order, for every event. Must not throw. */
  emit(event: RunEvent): void;
  /** Called once after `run_finished`; may flush buffers. */
  close?(): Promise<void> | void;
}
