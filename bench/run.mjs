// `npm run bench`: builds the CLI, then runs every bench/*.bench.mjs in turn (each prints
// its section of docs/benchmarks.md). Extra arguments go to every bench file; a bench
// that misses its target sets a non-zero exit code.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
let failed = 0;
for (const file of fs.readdirSync(here).filter((f) => f.endsWith('.bench.mjs')).sort()) {
  console.log(`\n# ${file}\n`);
  const r = spawnSync(process.execPath, [path.join(here, file), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
