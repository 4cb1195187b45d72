/**
 * The durations of the pipeline files, checked against the longest the runner takes
 * ({@link MAX_DURATION}): the schema checks their form, this their size, at the position
 * of each value.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { checkDuration } from '../util/duration.js';
import type { SourceFile } from './source-file.js';
import type { PipelineFile } from './generated/pipeline-file.js';

/** A schema-valid file (a LoadedFile of build.ts). */
interface ValidFile {
  file: SourceFile;
  value: PipelineFile;
}

type Path = Array<string | number>;

/** Every duration of one file with its path in the file. */
function durationsOf(f: ValidFile): Array<[Path, string]> {
  const v = f.value;
  const out: Array<[Path, string]> = [];
  const add = (path: Path, text: string | undefined) => {
    if (text !== undefined) out.push([path, text]);
  };
  add(['runner', 'retention', 'runs'], v.runner?.retention?.runs);
  (v.assets ?? []).forEach((a, i) => {
    add(['assets', i, 'timeout'], a.timeout);
    add(['assets', i, 'retry', 'delay'], a.retry?.delay);
    add(['assets', i, 'retry', 'max_delay'], a.retry?.max_delay);
  });
  for (const [name, e] of Object.entries(v.environments ?? {})) {
    if (typeof e === 'object' && e !== null) add(['environments', name, 'vault', 'timeout'], (e as { vault?: { timeout?: string } }).vault?.timeout);
  }
  (v.watchers ?? []).forEach((w, i) => add(['watchers', i, 'interval'], w.interval));
  return out;
}

/** A diagnostic per duration longer than the runner takes (their form the schema checked). */
export function checkDurations(files: ValidFile[]): Diagnostic[] {
  const ds: Diagnostic[] = [];
  for (const f of files) {
    for (const [path, text] of durationsOf(f)) {
      const r = checkDuration(text);
      if (!r.ok) ds.push({ pos: f.file.pos(path), message: `${path.join('.')}: ${r.reason}` });
    }
  }
  return ds;
}
