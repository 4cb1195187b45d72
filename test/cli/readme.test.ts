// The README shows the Mermaid graph of pipelines/: it must be what `runner graph` prints.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { loadDefinitions } from '../../src/definitions/load.js';
import { graphDocument, renderGraph } from '../../src/cli/graph-view.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the README graph is the graph of pipelines/', async () => {
  const defs = await loadDefinitions(path.join(root, 'pipelines'), { cacheDir: false });
  if (!defs.ok) throw new Error(defs.diagnostics.map((d) => d.message).join('\n'));
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const block = /```mermaid\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBe(renderGraph(graphDocument(defs.value), 'mermaid'));
});
