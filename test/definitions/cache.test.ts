/**
 * The parse cache: files are cached by content hash under the cache directory; an
 * unchanged file is served from it (with the same definitions and positions), a changed
 * or new file is parsed again, a deleted one is dropped, and a broken cache is ignored.
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDefinitionsSync } from '../../src/definitions/load.js';
import { formatDiagnostic } from '../../src/diagnostics/diagnostic.js';
import type { Definitions } from '../../src/definitions/model.js';
import { PROJECT_ROOT } from '../support/bundle.js';

let root: string;
let dir: string;
let cacheDir: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-cache-'));
  dir = path.join(root, 'pipelines');
  cacheDir = path.join(root, 'home', 'cache');
  fs.cpSync(path.join(PROJECT_ROOT, 'test/fixtures/good/anchors'), dir, { recursive: true });
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function load(): Definitions {
  const r = loadDefinitionsSync(dir, { cacheDir });
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.value.defs;
}

function errors(): string[] {
  const r = loadDefinitionsSync(dir, { cacheDir });
  return r.ok ? [] : r.diagnostics.map((d) => `${d.pos ? `${path.basename(d.pos.file)}:${d.pos.line}:${d.pos.col}: ` : ''}${d.message}`);
}

function cached(): string[] {
  const data = JSON.parse(fs.readFileSync(path.join(cacheDir, 'definitions.json'), 'utf8')) as { files: Record<string, unknown> };
  return Object.keys(data.files).sort();
}

/** Assets as plain data, positions included. */
function snapshot(defs: Definitions): unknown {
  return [...defs.assets.values()].map((a) => ({ ...a }));
}

test('a warm load gives the same definitions and positions as a cold one', () => {
  const cold = load();
  expect(cached()).toEqual(['pipeline.yaml']);
  const warm = load();
  expect(snapshot(warm)).toEqual(snapshot(cold));
  expect([...warm.graph.topoOrder()]).toEqual([...cold.graph.topoOrder()]);
});

test('a changed file is parsed again; its new errors point at the right place', () => {
  load();
  const file = path.join(dir, 'pipeline.yaml');
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.replace('deps: [warehouse/orders, warehouse__customers]', 'deps: [warehouse/orders, warehouse/customer]'));
  expect(errors()).toEqual([
    "pipeline.yaml:20:30: asset `warehouse/report` depends on unknown asset `warehouse/customer` (did you mean 'warehouse/customers'?)",
  ]);
  fs.writeFileSync(file, text);
  expect(errors()).toEqual([]);
});

test('cross-file errors found with cached files still point into them', () => {
  load();
  fs.writeFileSync(path.join(dir, 'more.yaml'), 'assets:\n  - key: warehouse/orders\n    handler: command\n    config: {run: [echo]}\n');
  expect(errors()).toEqual([
    // Outside the working directory, paths are shown absolute.
    `more.yaml:2:5: asset \`warehouse/orders\` is defined twice: also at ${path.join(dir, 'pipeline.yaml')}:4:5`,
    `pipeline.yaml:4:5: asset \`warehouse/orders\` is defined twice: also at ${path.join(dir, 'more.yaml')}:2:5`,
  ]);
});

test('new files are added to the cache and deleted ones dropped', () => {
  load();
  fs.mkdirSync(path.join(dir, 'extra'));
  fs.writeFileSync(path.join(dir, 'extra', 'jobs.yaml'), 'jobs:\n  - name: everything\n    select: "*"\n');
  expect(load().jobs.get('everything')?.select).toBe('*');
  expect(cached()).toEqual([path.join('extra', 'jobs.yaml'), 'pipeline.yaml']);
  fs.rmSync(path.join(dir, 'extra'), { recursive: true });
  expect(load().jobs.size).toBe(0);
  expect(cached()).toEqual(['pipeline.yaml']);
});

test('files that fail to load are not cached', () => {
  fs.writeFileSync(path.join(dir, 'broken.yaml'), 'assets:\n  - key: demo/a\n    handler: command\n    config: {run: []}\n');
  expect(errors()).toEqual(['broken.yaml:4:19: run: must have at least 1 item']);
  expect(cached()).toEqual(['pipeline.yaml']);
});

test('an unreadable or foreign cache file is ignored and replaced', () => {
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.writeFileSync(path.join(cacheDir, 'definitions.json'), '{not json');
  expect(load().assets.size).toBe(3);
  expect(cached()).toEqual(['pipeline.yaml']);
  fs.writeFileSync(path.join(cacheDir, 'definitions.json'), JSON.stringify({ format: 'other', files: { 'pipeline.yaml': { hash: 'x', value: {}, items: {} } } }));
  expect(load().assets.size).toBe(3);
});

test('an old, unchanged file is served by its stat stamp; a same-size rewrite is still seen', () => {
  const file = path.join(dir, 'pipeline.yaml');
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(file, old, old);
  const first = load();
  const entry = () => (JSON.parse(fs.readFileSync(path.join(cacheDir, 'definitions.json'), 'utf8')) as { files: Record<string, { stamp?: string }> }).files['pipeline.yaml']!;
  expect(entry().stamp).toMatch(/^\d+:\d+:\d+:\d+$/);
  expect([...load().assets.keys()]).toEqual([...first.assets.keys()]);

  // Rewritten now with the same size: its times changed, and a fresh file is never trusted by stamp.
  const text = fs.readFileSync(file, 'utf8');
  const key = [...first.graph.sinks(first.assets.keys())][0]!;
  const renamed = key.slice(0, -1) + (key.endsWith('x') ? 'y' : 'x');
  fs.writeFileSync(file, text.replace(`key: ${key}`, `key: ${renamed}`));
  expect(fs.statSync(file).size).toBe(text.length);
  expect(load().assets.has(renamed)).toBe(true);
  // A file changed seconds ago is never trusted by stamp (a same-size rewrite within one
  // clock tick would keep it): it has none, so the next load hashes it again.
  expect(entry().stamp ?? '').toBe('');
});
