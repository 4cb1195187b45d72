// Builds the CLI bundle into dist/: one entry (dist/cli.js) plus chunks for the modules
// that commands import lazily, so `runner list` does not load the executor or listr2.
// Run by `npm ci` (prepare) so `npx runner` works right after install.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

rmSync(path.join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  // Native or very large modules stay in node_modules.
  external: ['better-sqlite3', 'playwright-core'],
  define: { __RUNNER_VERSION__: JSON.stringify(pkg.version) },
  // CommonJS dependencies bundled into ESM need `require` for Node built-ins.
  banner: { js: "import { createRequire as __runnerCreateRequire } from 'node:module'; const require = __runnerCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

// The web UI (src/ui/app, Preact) for the browser: dist/ui/app.js and app.css, served by `runner serve`.
await build({
  absWorkingDir: root,
  entryPoints: { app: 'src/ui/app/main.tsx' },
  outdir: 'dist/ui',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: 'src/ui/app/tsconfig.json',
  logLevel: 'warning',
});
