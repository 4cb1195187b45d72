/**
 * The corpus that holds the handler's config schema against OpenMetadata's official
 * schemas: every example of ../shared/openmetadata-spec/examples/{seed,valid}, turned into
 * an asset config, plus mutations of each (a property removed, a property added, a value of
 * the wrong type), and the runtime rules the runner enforces beyond the official schema.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import YAML from 'yaml';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import omSchema from '../../schemas/handlers/openmetadata.schema.json' with { type: 'json' };
// @ts-expect-error plain JavaScript module shared with the fake CLI
import { officialValidator, specDir } from '../support/fake-openmetadata/official-schema.mjs';
import { renderWorkflow } from '../../src/handlers/openmetadata/render.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One example of the spec directory. */
export interface Example {
  name: string;
  workflow: Record<string, Json>;
}

/** The seed and valid examples. */
export function examples(): Example[] {
  const out: Example[] = [];
  for (const dir of ['seed', 'valid']) {
    const d = path.join(specDir() as string, 'examples', dir);
    for (const f of readdirSync(d).sort()) out.push({ name: `${dir}/${f}`, workflow: YAML.parse(readFileSync(path.join(d, f), 'utf8')) });
  }
  return out;
}

/** The asset config of a full workflow: everything but the sink and the server connection. */
export function assetConfigOf(workflow: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(workflow)) {
    if (k === 'sink') continue;
    if (k === 'workflowConfig' && isObject(v)) {
      const { openMetadataServerConfig: _server, ...rest } = v;
      out[k] = rest;
    } else out[k] = structuredClone(v);
  }
  return out;
}

/** A mutated config and what was done. */
export interface Mutation {
  what: string;
  config: Json;
}

function paths(v: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [at];
  if (isObject(v)) for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  else if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  return out;
}

function getAt(v: Json, p: Array<string | number>): Json {
  let cur: Json = v;
  for (const s of p) cur = (cur as Record<string, Json>)[s as string]!;
  return cur;
}

function wrongTypeOf(v: Json): Json {
  if (typeof v === 'string') return 42;
  if (typeof v === 'number') return 'forty-two';
  if (typeof v === 'boolean') return 'yes';
  if (Array.isArray(v)) return 'not-a-list';
  if (isObject(v)) return ['not', 'a', 'mapping'];
  return 'null-was-here';
}

/** Every single mutation of `config`: remove each property, add one to each mapping, change each value's type. */
export function mutations(config: Record<string, Json>): Mutation[] {
  const out: Mutation[] = [];
  for (const p of paths(config)) {
    const where = p.length === 0 ? '(root)' : p.join('.');
    const node = getAt(config, p);
    if (p.length > 0 && typeof p[p.length - 1] === 'string') {
      const c = structuredClone(config);
      delete (getAt(c, p.slice(0, -1)) as Record<string, Json>)[p[p.length - 1] as string];
      out.push({ what: `remove ${where}`, config: c });
    }
    if (isObject(node)) {
      const c = structuredClone(config);
      (getAt(c, p) as Record<string, Json>).zzUnexpected = true;
      out.push({ what: `add ${where}.zzUnexpected`, config: c });
    }
    if (p.length > 0) {
      const c = structuredClone(config);
      (getAt(c, p.slice(0, -1)) as Record<string | number, Json>)[p[p.length - 1]!] = wrongTypeOf(node);
      out.push({ what: `wrong type at ${where}`, config: c });
    }
  }
  return out;
}

/** The handler schema compiled as the loader compiles it (Ajv, strict off, ajv-formats). */
export function ownValidator(): (config: unknown) => { valid: boolean; errors: string[] } {
  const ajv = new Ajv.default({ allErrors: true, strict: false, allowUnionTypes: true });
  addFormats.default(ajv);
  const v = ajv.compile(omSchema);
  return (config) => {
    const valid = v(config) as boolean;
    return { valid, errors: valid ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`) };
  };
}

/** The workflow the handler renders from `config` (the config itself when it is not a mapping). */
export function rendered(config: Json): unknown {
  return isObject(config) ? renderWorkflow(config, 'http://localhost:8585/api', 'eyJ.test.token').workflow : config;
}

/** The official verdict (in-process, as the fake CLI validates) on the workflow rendered from `config`. */
export function officialVerdict(config: Json): { valid: boolean; errors: string[] } {
  return officialValidator().validate(rendered(config));
}

/**
 * Verdicts of ../shared/openmetadata-spec/validate.mjs itself, run once on every workflow
 * (written as JSON files): name → valid.
 */
export async function validateMjsVerdicts(workflows: Map<string, unknown>): Promise<Map<string, boolean>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'om-corpus-'));
  const files: string[] = [];
  let i = 0;
  const names = new Map<string, string>();
  for (const [name, wf] of workflows) {
    const f = path.join(dir, `case-${i++}.json`);
    writeFileSync(f, JSON.stringify(wf));
    files.push(f);
    names.set(f, name);
  }
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const r = await execa(process.execPath, [path.join(specDir() as string, 'validate.mjs'), '--brief', ...files], { cwd: root, reject: false });
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`validate.mjs failed: ${r.stderr}`);
  const out = new Map<string, boolean>();
  for (const line of String(r.stdout).split('\n')) {
    const m = /^(\S+\.json): (VALID|INVALID)/.exec(line);
    if (m) out.set(names.get(m[1]!)!, m[2] === 'VALID');
  }
  rmSync(dir, { recursive: true, force: true });
  return out;
}

const PLAIN_TYPES = ['DatabaseMetadata', 'Profiler', 'DashboardMetadata', 'PipelineMetadata', 'StorageMetadata'];

/**
 * The rules the runner enforces beyond the official schema, because OpenMetadata's runtime
 * rejects what its schema lets through (docs/openmetadata.md, "Stricter than the schema"):
 * a Profiler needs a processor; the source type must fit the pipeline type. Returns the
 * rule broken, if any. Written independently of the handler's schema.
 */
export function runtimeRuleBroken(config: Json): string | undefined {
  if (!isObject(config) || !isObject(config.source)) return undefined;
  const sc = config.source.sourceConfig;
  const type = isObject(sc) && isObject(sc.config) ? sc.config.type : undefined;
  if (typeof type !== 'string') return undefined;
  if (type === 'Profiler' && !('processor' in config)) return 'a Profiler workflow needs a processor';
  const st = config.source.type;
  if (typeof st !== 'string') return undefined;
  if (type === 'DatabaseLineage' && !st.endsWith('-lineage')) return 'a lineage source type ends in -lineage';
  if (type === 'DatabaseUsage' && !st.endsWith('-usage')) return 'a usage source type ends in -usage';
  if (type === 'DBT' && st !== 'dbt') return 'a dbt source type is dbt';
  if (PLAIN_TYPES.includes(type) && (st === 'dbt' || /-(lineage|usage)$/.test(st))) return `a ${type} source type is the bare connector name`;
  return undefined;
}
