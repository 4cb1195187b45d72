/** What a live view of a run is: an event sink with a start and an end. */
import type { EventSink } from '../execution/events.js';

/** The output modes of `materialize --output`. */
export const OUTPUT_MODES = ['tty', 'plain', 'json'] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

/** A live view of a run. `emit` must be cheap: it runs inside the executor's loop. */
export interface Renderer extends EventSink {
  /** Called once before the first event. */
  start(): Promise<void> | void;
  /** Writes what is buffered and stops the view (after `run_finished`). */
  close(): Promise<void>;
  /** Whether the end-of-run summary goes to stdout (false for JSON lines: it goes to stderr). */
  readonly summaryToStdout: boolean;
}

/** A writable text stream (process.stdout or a test double). */
export interface TextOut {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}
