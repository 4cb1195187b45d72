/** The JSON view: one RunEvent per line on stdout, exactly as emitted (docs/api.md). */
import type { RunEvent } from '../execution/events.js';
import type { Renderer, TextOut } from './renderer.js';
import { BufferedWriter } from './style.js';

/** Writes every event as one line of JSON. */
export class JsonRenderer implements Renderer {
  readonly summaryToStdout = false;
  private readonly w: BufferedWriter;

  constructor(out: TextOut) {
    this.w = new BufferedWriter(out);
  }

  start(): void {}

  emit(e: RunEvent): void {
    this.w.write(JSON.stringify(e) + '\n');
  }

  async close(): Promise<void> {
    this.w.flush();
  }
}
