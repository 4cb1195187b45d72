// Generates TypeScript types from the JSON Schemas in schemas/ with json-schema-to-typescript.
// `npm run gen` writes them; `node scripts/gen.mjs --check` exits 1 when the checked-in
// files are stale (a test runs it).
import { compile } from 'json-schema-to-typescript';
import Ajv, { _ } from 'ajv';
import addFormats from 'ajv-formats';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outDir = path.join(root, 'src/definitions/generated');
const banner = '/* Generated from schemas/ by `npm run gen` (json-schema-to-typescript). Do not edit. */';

const targets = [
  { schema: 'schemas/pipeline.schema.json', out: 'pipeline-file.ts' },
  { schema: 'schemas/handlers/command.schema.json', out: 'command-config.ts' },
  { schema: 'schemas/handlers/openmetadata.schema.json', out: 'openmetadata-config.ts' },
];

export async function generate() {
  const files = {};
  for (const t of targets) {
    const schema = JSON.parse(readFileSync(path.join(root, t.schema), 'utf8'));
    const ts = await compile(schema, schema.title, {
      bannerComment: banner,
      cwd: path.dirname(path.join(root, t.schema)),
      additionalProperties: false,
      unreachableDefinitions: false,
      style: { singleQuote: true, printWidth: 120 },
      // $refs to other files are resolved relative to the schema file.
      $refOptions: { resolve: { http: false } },
    });
    files[t.out] = ts;
  }
  files['validators.js'] = validatorsModule();
  return files;
}

/**
 * The validators as Ajv standalone code, so that no schema is compiled when the CLI
 * starts (compiling costs ~100 ms; loading the generated module a few).
 */
function validatorsModule() {
  const load = (p) => JSON.parse(readFileSync(path.join(root, p), 'utf8'));
  const pipeline = load('schemas/pipeline.schema.json');
  const handlers = { command: load('schemas/handlers/command.schema.json'), openmetadata: load('schemas/handlers/openmetadata.schema.json') };
  // A new handler: add its schema here, in src/definitions/validators.ts and in the pipeline schema's Asset.allOf.
  const ajv = new Ajv({
    allErrors: true, verbose: true, strict: false, allowUnionTypes: true,
    code: { source: true, esm: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
  });
  addFormats(ajv);
  for (const s of Object.values(handlers)) ajv.addSchema(s);
  ajv.addSchema(pipeline);
  const refs = { pipeline: pipeline.$id };
  for (const [name, s] of Object.entries(handlers)) refs[`handler_${name}`] = s.$id;
  let code = standaloneCode(ajv, refs);
  // Ajv's ESM output still calls require() for its runtime helpers (ucs2length, formats):
  // give it a real require, which behaves the same under Node, esbuild and vitest.
  code = code.replace(/^"use strict";/, '');
  const imports = code.includes('require(') ? ["import { createRequire } from 'node:module';", 'const require = createRequire(import.meta.url);'] : [];
  return `${banner.replace('json-schema-to-typescript', 'Ajv standalone')}\n// @ts-nocheck\n${imports.join('\n')}\n${code}\n`;
}

const check = process.argv.includes('--check');
const files = await generate();
let stale = [];
for (const [name, content] of Object.entries(files)) {
  const p = path.join(outDir, name);
  let current = '';
  try { current = readFileSync(p, 'utf8'); } catch {}
  if (current !== content) {
    stale.push(path.relative(root, p));
    if (!check) { mkdirSync(outDir, { recursive: true }); writeFileSync(p, content); }
  }
}
if (check) {
  if (stale.length) { console.error(`stale generated types: ${stale.join(', ')} (run npm run gen)`); process.exit(1); }
  console.log('generated types are up to date');
} else console.log(stale.length ? `wrote ${stale.join(', ')}` : 'generated types are up to date');
