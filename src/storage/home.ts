/**
 * RUNNER_HOME: where the run store, the parse cache and the tools live. One rule for all of
 * them, so a store, a cache and a venv of one project are never looked for in two places.
 */
import path from 'node:path';

/** RUNNER_HOME, else `.runner/` in the project directory (the pipelines directory's parent). */
export function homeOf(projectDir: string, processEnv: Record<string, string | undefined> = process.env): string {
  return processEnv.RUNNER_HOME ? path.resolve(processEnv.RUNNER_HOME) : path.join(projectDir, '.runner');
}
