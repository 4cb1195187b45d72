// The official OpenMetadata workflow schema (../shared/openmetadata-spec, see its PROVENANCE.md),
// loaded exactly as that directory's validate.mjs loads it (which exports nothing, so its
// loading is replicated here): every *.json under json/schema in one Ajv instance (draft-07,
// strict off, allErrors, ajv-formats, `utc-millisec`/`timezone` accepted), each schema keyed by
// its path-derived URI (declared $ids kept as aliases), non-draft-07 `$schema` dropped, entry
// `metadataIngestion/workflow.json#/properties/openMetadataWorkflowConfig`.
// Plain JavaScript so the fake `metadata` CLI (a separate node process) can use it too.
import { readFileSync, readdirSync, statSync, existsSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join, relative, sep, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import Ajv, { _ } from 'ajv';
import addFormats from 'ajv-formats';
import standaloneCode from 'ajv/dist/standalone/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE_URI = 'https://open-metadata.org/schema/';
const DRAFT7 = 'http://json-schema.org/draft-07/schema#';
const ENTRY = BASE_URI + 'metadataIngestion/workflow.json#/properties/openMetadataWorkflowConfig';
// Compiling the official schemas takes about a second; the compiled validator is cached as
// Ajv standalone code (keyed by the schema files' content) where `ajv` resolves from.
const CACHE_DIR = resolve(HERE, '..', '..', '..', 'node_modules', '.cache', 'fake-openmetadata');

/** The spec directory: OPENMETADATA_SPEC_DIR, else `../shared/openmetadata-spec` beside the project. */
export function specDir() {
  if (process.env.OPENMETADATA_SPEC_DIR) return resolve(process.env.OPENMETADATA_SPEC_DIR);
  return resolve(HERE, '..', '..', '..', '..', 'shared', 'openmetadata-spec');
}

/** Whether the official schemas are available. */
export function specAvailable(dir = specDir()) {
  return existsSync(join(dir, 'json', 'schema', 'metadataIngestion', 'workflow.json'));
}

function walk(dir) {
  const out = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (n.endsWith('.json')) out.push(p);
  }
  return out.sort();
}

let cached;

function loadSchemas(schemaDir) {
  const schemas = new Map();
  const hash = createHash('sha1');
  for (const path of walk(schemaDir)) {
    const rel = relative(schemaDir, path).split(sep).join('/');
    const text = readFileSync(path, 'utf8');
    hash.update(rel).update('\0').update(text).update('\0');
    const json = JSON.parse(text);
    const canonical = BASE_URI + rel;
    const declared = json.$id;
    if (json.$schema && json.$schema !== DRAFT7) delete json.$schema;
    json.$id = canonical;
    schemas.set(canonical, { json, declared });
  }
  return { schemas, hash: hash.digest('hex').slice(0, 16) };
}

function compile(schemas, standalone) {
  const AjvClass = Ajv.default ?? Ajv;
  const ajv = new AjvClass({ strict: false, allErrors: true, ...(standalone ? { code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` } } : {}) });
  (addFormats.default ?? addFormats)(ajv);
  for (const f of ['utc-millisec', 'timezone']) ajv.addFormat(f, true);
  for (const [id, { json }] of schemas) ajv.addSchema(json, id);
  for (const [id, { declared }] of schemas) {
    if (declared && declared !== id && /^https?:\/\/[^/]/.test(declared) && !schemas.has(declared.replace(/#$/, ''))) {
      try { ajv.addSchema({ $id: declared, $ref: id }); } catch { /* alias taken */ }
    }
  }
  const v = ajv.getSchema(ENTRY);
  if (!v) throw new Error(`entry schema ${ENTRY} not found`);
  return { ajv, v };
}

/** The validate function: from the standalone cache when fresh, else compiled (and cached). */
function validateFunction(schemaDir) {
  const { schemas, hash } = loadSchemas(schemaDir);
  const file = join(CACHE_DIR, `workflow-validator-${hash}.cjs`);
  if (existsSync(file)) {
    try {
      return createRequire(file)(file).validate;
    } catch { /* rebuild below */ }
  }
  try {
    const { ajv } = compile(schemas, true);
    const code = standaloneCode.default ? standaloneCode.default(ajv, { validate: ENTRY }) : standaloneCode(ajv, { validate: ENTRY });
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
    return createRequire(file)(file).validate;
  } catch (err) {
    if (process.env.FAKE_OM_DEBUG) console.error(err);
    return compile(schemas, false).v;
  }
}

/**
 * The compiled official validator: `validate(workflow)` returns `{valid, errors}`, errors as
 * `instancePath message` lines. Compiled once per process.
 */
export function officialValidator(dir = specDir()) {
  if (cached && cached.dir === dir) return cached.api;
  const v = validateFunction(join(dir, 'json', 'schema'));
  const api = {
    validate(workflow) {
      const valid = v(workflow);
      return { valid: Boolean(valid), errors: valid ? [] : [...new Set((v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`))] };
    },
  };
  cached = { dir, api };
  return api;
}
