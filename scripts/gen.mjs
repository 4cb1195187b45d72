// Generates TypeScript types from the JSON Schemas in schemas/ with json-schema-to-typescript.
// `npm run gen` writes them; `node scripts/gen.mjs --check` exits 1 when the checked-in
// files are stale (a test runs it).
import { compile } from 'json-schema-to-typescript';
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
  return files;
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
