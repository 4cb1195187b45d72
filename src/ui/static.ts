/**
 * The browser app's files: `dist/ui/` (built by `npm run build` from src/ui/app/), found
 * by walking up from this module (it runs from src/ui/ in tests and from dist/chunks/ when
 * bundled), and the one HTML page every client-side route answers with.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeHtml } from './guard.js';

/** The directory holding app.js and app.css, or undefined when the app is not built. */
export function findUiDir(start = path.dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'dist', 'ui');
    if (fs.existsSync(path.join(candidate, 'app.js'))) return candidate;
    // Bundled: this module sits in dist/ or dist/chunks/.
    if (path.basename(dir) === 'dist' && fs.existsSync(path.join(dir, 'ui', 'app.js'))) return path.join(dir, 'ui');
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** A file of the app by its base name (no directories: nothing outside dist/ui is reachable). */
export function readStatic(dir: string | undefined, name: string): { body: Buffer; type: string } | undefined {
  if (!dir || !/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name)) return undefined;
  const type = TYPES[path.extname(name)];
  if (!type) return undefined;
  try {
    return { body: fs.readFileSync(path.join(dir, name)), type };
  } catch {
    return undefined;
  }
}

/** What the page tells the app. */
export interface PageConfig {
  csrfToken: string;
  /** The environment's name, shown in the header. */
  env: string;
}

/** The HTML page of every route; the app reads its settings from the meta tags. */
export function pageHtml(cfg: PageConfig, built: boolean): string {
  const body = built
    ? '<div id="app"></div><script type="module" src="/static/app.js"></script>'
    : '<main><h1>The web UI is not built</h1><p>Run <code>npm run build</code> and restart <code>runner serve</code>. The JSON API under /api/ works without it.</p></main>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${escapeHtml(cfg.csrfToken)}">
<meta name="runner-env" content="${escapeHtml(cfg.env)}">
<title>runner</title>
<link rel="icon" href="data:,">
${built ? '<link rel="stylesheet" href="/static/app.css">' : ''}
</head>
<body>
${body}
</body>
</html>
`;
}
