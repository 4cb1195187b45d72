/** Chooses the live view of a run: listr2 on a terminal, plain lines elsewhere, or JSON lines. */
import type { Renderer, OutputMode, TextOut } from './renderer.js';
import { PlainRenderer } from './plain.js';
import { JsonRenderer } from './json.js';
import { useColor } from './style.js';

export type { Renderer, OutputMode } from './renderer.js';
export { OUTPUT_MODES } from './renderer.js';

/** Options of `createRenderer`. */
export interface RendererOptions {
  /** `--output`; undefined picks `tty` on a terminal, else `plain`. */
  mode?: OutputMode;
  /** Steps in the plan. */
  total: number;
  out?: TextOut;
  env?: Record<string, string | undefined>;
}

/** The mode actually used: `tty` only when stdout is a terminal (else `plain`). */
export function resolveMode(mode: OutputMode | undefined, out: TextOut): OutputMode {
  if (mode === 'json' || mode === 'plain') return mode;
  return out.isTTY ? 'tty' : 'plain';
}

/** Creates the renderer for a run (the listr2 view is loaded only when used). */
export async function createRenderer(opts: RendererOptions): Promise<Renderer> {
  const out = opts.out ?? process.stdout;
  const mode = resolveMode(opts.mode, out);
  if (mode === 'json') return new JsonRenderer(out);
  if (mode === 'plain') return new PlainRenderer(out, useColor(out, opts.env));
  const { TtyRenderer, ttySupported } = await import('./tty.js');
  // Should a listr2 release drop what the live view relies on, plain lines still work.
  return ttySupported() ? new TtyRenderer(opts.total) : new PlainRenderer(out, useColor(out, opts.env));
}
