/**
 * Bundles a TypeScript entry into one ESM file a child `node` process can run (there is no
 * tsx here). The output goes under the project's node_modules/.cache so that its external
 * imports (better-sqlite3, a native module that cannot be bundled) resolve from the
 * project's node_modules.
 */
import path from 'node:path';
import fs from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

/** The project's root directory. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where bundles are written. */
export const BUNDLE_DIR = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'runner-test-bundles');

/**
 * Bundles `entry` (a path, absolute or relative to the project root) into one `.mjs` file
 * and returns its absolute path. `external` lists packages left as imports (default:
 * better-sqlite3). The file is named by a hash of its content: the same sources give the
 * same file (written once, atomically), so concurrent test files can share it, the
 * cache does not grow with every run, and no caller needs to delete it.
 */
export async function bundle(entry: string, options: { external?: string[] } = {}): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [path.resolve(PROJECT_ROOT, entry)],
    outfile: path.join(BUNDLE_DIR, 'out.mjs'),
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: options.external ?? ['better-sqlite3'],
    // Bundled CommonJS dependencies may call require(); give ESM output one.
    banner: { js: "import { createRequire as __runnerCreateRequire } from 'node:module'; const require = __runnerCreateRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  const out = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!;
  const hash = createHash('sha256').update(out.contents).digest('hex').slice(0, 12);
  const file = path.join(BUNDLE_DIR, `${path.basename(entry).replace(/\.[^.]+$/, '')}-${hash}.mjs`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(BUNDLE_DIR, { recursive: true });
    const tmp = `${file}.${randomUUID()}.tmp`;
    fs.writeFileSync(tmp, out.contents);
    fs.renameSync(tmp, file);
  }
  return file;
}

/** The newest modification time of any file below `dir` (to tell whether dist/ is stale). */
export function newestMtime(dir: string): number {
  let max = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    max = Math.max(max, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return max;
}
