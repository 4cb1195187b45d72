// Every property of the file format carries a description: editors show them, they are
// the user documentation. Every pipeline file points editors at the schema.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { findPipelineFiles } from '../../src/definitions/load.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function undocumented(node: unknown, where: string, out: string[]): string[] {
  if (Array.isArray(node)) node.forEach((x, i) => undocumented(x, `${where}[${i}]`, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.properties && typeof o.properties === 'object') {
      for (const [name, prop] of Object.entries(o.properties as Record<string, Record<string, unknown>>)) {
        const described = typeof prop.description === 'string' && prop.description.length > 0;
        // A bare $ref takes the description of the definition it points to.
        const viaRef = typeof prop.$ref === 'string' && Object.keys(prop).length === 1;
        if (!described && !viaRef) out.push(`${where}.properties.${name}`);
      }
    }
    // `if` conditions match on a property; they do not define one.
    for (const [k, v] of Object.entries(o)) if (k !== 'if') undocumented(v, `${where}.${k}`, out);
  }
  return out;
}

test.each(['pipeline.schema.json', 'handlers/command.schema.json'])('every property of %s has a description', (file) => {
  const schema = JSON.parse(readFileSync(path.join(root, 'schemas', file), 'utf8'));
  expect(undocumented(schema, file, [])).toEqual([]);
});

test('every definition of the pipeline schema has a description', () => {
  const schema = JSON.parse(readFileSync(path.join(root, 'schemas', 'pipeline.schema.json'), 'utf8'));
  const missing = Object.entries(schema.definitions as Record<string, { description?: string }>).filter(([, d]) => !d.description).map(([n]) => n);
  expect(missing).toEqual([]);
});

test('every pipeline file starts with the yaml-language-server schema line', () => {
  for (const dir of [path.join(root, 'pipelines'), path.join(root, 'examples', 'quickstart')]) {
    for (const f of findPipelineFiles(dir)) {
      const first = readFileSync(f, 'utf8').split('\n')[0];
      const rel = path.relative(path.dirname(f), path.join(root, 'schemas', 'pipeline.schema.json'));
      expect(first, f).toBe(`# yaml-language-server: $schema=${rel}`);
    }
  }
  void readdirSync;
});
