/**
 * The private directory a step's workflow file lives in: a fresh `runner-om-<pid>-XXXXXX`
 * directory (mode 0700) under the OS temp directory holding `workflow.yaml` (mode 0600),
 * removed when the step ends. Directories of runners that died (their pid is in the name)
 * are removed by {@link cleanupStaleConfigs} at the next start.
 */
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pidAlive } from '../../execution/process-tree.js';

/** The name prefix of the directories. */
export const WORKDIR_PREFIX = 'runner-om-';
/** The workflow file's name inside the directory. */
export const WORKFLOW_FILE = 'workflow.yaml';

const NAME = /^runner-om-(\d+)-[A-Za-z0-9]+$/;

/** Creates the directory and writes the workflow into it; returns the directory. */
export async function createWorkdir(content: string, base = tmpdir()): Promise<string> {
  const dir = await mkdtemp(path.join(base, `${WORKDIR_PREFIX}${process.pid}-`));
  await chmod(dir, 0o700);
  await writeFile(path.join(dir, WORKFLOW_FILE), content, { mode: 0o600, flag: 'wx' });
  return dir;
}

/** Removes a step's directory and everything in it (never throws). */
export async function removeWorkdir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Removes the directories left behind by runners that are gone: only `runner-om-<pid>-*`
 * directories owned by this user whose pid is not alive (and is not this process).
 * Returns the directories removed.
 */
export function cleanupStaleConfigs(base = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  for (const name of names) {
    const m = NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const dir = path.join(base, name);
    try {
      const st = statSync(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Raced with another runner's cleanup, or not ours to remove.
    }
  }
  return removed;
}
