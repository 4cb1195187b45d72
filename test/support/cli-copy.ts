/**
 * A private copy of the built CLI for end-to-end tests: `npm run build` runs first when
 * dist/ is older than the sources (an up-to-date dist/ is not rebuilt, so other files running
 * bin/runner.js at the same time never see dist/ disappear), then bin/ and dist/ are copied
 * under the project's node_modules/.cache, so that a rebuild elsewhere cannot pull the build
 * from under a running test (packages still resolve from the project's node_modules).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { PROJECT_ROOT, newestMtime } from './bundle.js';

/** Builds dist/ when stale, then copies bin/ and dist/ into `copyDir` (replacing what was there). */
export async function copyBuiltCli(copyDir: string): Promise<void> {
  const dist = path.join(PROJECT_ROOT, 'dist', 'cli.js');
  const sources = Math.max(newestMtime(path.join(PROJECT_ROOT, 'src')), newestMtime(path.join(PROJECT_ROOT, 'schemas')));
  if (!fs.existsSync(dist) || fs.statSync(dist).mtimeMs <= sources) {
    const r = await execa('npm', ['run', 'build'], { cwd: PROJECT_ROOT, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
  }
  fs.rmSync(copyDir, { recursive: true, force: true });
  fs.cpSync(path.join(PROJECT_ROOT, 'dist'), path.join(copyDir, 'dist'), { recursive: true });
  fs.cpSync(path.join(PROJECT_ROOT, 'bin'), path.join(copyDir, 'bin'), { recursive: true });
}
