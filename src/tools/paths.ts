/**
 * Where tools live: `RUNNER_HOME/tools/` (RUNNER_HOME, else `.runner/` next to the
 * pipelines directory), one virtual environment per tool, version and plugin set, the
 * install lock, and the download cache (RUNNER_TOOLS_CACHE, else `tools/cache/`) that
 * pip and uv share across installs.
 */
import path from 'node:path';

/** `<home>/tools`. */
export function toolsDir(home: string): string {
  return path.join(home, 'tools');
}

/** The download cache of pip and uv: RUNNER_TOOLS_CACHE, else `<home>/tools/cache`. */
export function toolsCacheDir(home: string, processEnv: Record<string, string | undefined> = process.env): string {
  return processEnv.RUNNER_TOOLS_CACHE ? path.resolve(processEnv.RUNNER_TOOLS_CACHE) : path.join(toolsDir(home), 'cache');
}

/** The lock that keeps two installs from running at once. */
export function installLockFile(home: string): string {
  return path.join(toolsDir(home), 'install.lock');
}

/** The directory of one virtual environment: `openmetadata-1.7.7.4` or `openmetadata-1.7.7.4-dbt+trino`. */
export function venvDir(home: string, tool: string, version: string, plugins: string[]): string {
  return path.join(toolsDir(home), plugins.length > 0 ? `${tool}-${version}-${plugins.join('+')}` : `${tool}-${version}`);
}

/** The file a finished install writes last: a venv without it is half-done. */
export const MANIFEST = 'runner-tool.json';
