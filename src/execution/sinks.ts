/** Event sinks: the fan-out the executor writes to, and a recorder for tests and summaries. */
import type { EventSink, RunEvent } from './events.js';

/** Sends every event to each sink in order; a sink that throws does not stop the others. */
export class FanOut implements EventSink {
  private readonly sinks: EventSink[];

  constructor(sinks: Array<EventSink | undefined>) {
    this.sinks = sinks.filter((s): s is EventSink => s !== undefined);
  }

  /** Adds a sink (e.g. the notifier) before the run starts. */
  add(sink: EventSink): void {
    this.sinks.push(sink);
  }

  emit(event: RunEvent): void {
    for (const s of this.sinks) {
      try {
        s.emit(event);
      } catch (err) {
        // A broken consumer must not break the run; say so once per event on stderr.
        process.stderr.write(`runner: an event consumer failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  }

  async close(): Promise<void> {
    for (const s of this.sinks) await s.close?.();
  }
}

/** Keeps every event in memory (tests, small runs). */
export class MemorySink implements EventSink {
  readonly events: RunEvent[] = [];
  emit(event: RunEvent): void {
    this.events.push(event);
  }
}
