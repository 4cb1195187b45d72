/**
 * Loading a pipelines directory: every `*.yaml` (and `*.yml`) at any depth, parsed with
 * positions, validated against the pipeline schema, merged and checked. All problems of
 * one load come back together, sorted by position.
 *
 * Parsed, valid files are cached by content hash under RUNNER_HOME, so a check of an
 * unchanged project skips YAML parsing and schema validation (the slow parts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Diagnostic, type Result, fail, ok, sortDiagnostics } from '../diagnostics/diagnostic.js';
import type { Definitions } from './model.js';
import { SourceFile, itemPositions, type ItemPositions } from './source-file.js';
import { readFileText, type FileText } from './file-text.js';
import { validatePipelineFile } from './validate.js';
import { buildDefinitions, type LoadedFile, type Origins, type PipelineFileValue } from './build.js';
import { HANDLER_SCHEMAS } from './validators.js';
import { homeOf } from '../storage/home.js';
import pipelineSchema from '../../schemas/pipeline.schema.json' with { type: 'json' };

export interface LoadOptions {
  /** Where the parse cache lives (default RUNNER_HOME, else `<project>/.runner`); `false` disables it. */
  cacheDir?: string | false;
}

/** Definitions plus where each came from (for commands that point into files). */
export interface Loaded {
  defs: Definitions;
  origins: Origins;
}

/** Loads and checks a pipelines directory. */
export async function loadDefinitions(dir: string, opts: LoadOptions = {}): Promise<Result<Definitions>> {
  const r = loadDefinitionsSync(dir, opts);
  return r.ok ? ok(r.value.defs) : r;
}

/** The same, synchronously, with origins. */
export function loadDefinitionsSync(dirArg: string, opts: LoadOptions = {}): Result<Loaded> {
  const dir = path.resolve(dirArg);
  const projectDir = path.dirname(dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return fail({ message: `pipelines directory \`${display(dir)}\` does not exist (pass -p DIR)` });
  }
  const paths = findPipelineFiles(dir);
  if (paths.length === 0) return fail({ message: `no *.yaml files in pipelines directory \`${display(dir)}\`` });

  const cache = openCache(opts.cacheDir === undefined ? defaultCacheDir(projectDir) : opts.cacheDir);
  const ds: Diagnostic[] = [];
  const files: LoadedFile[] = [];
  for (const abs of paths) {
    const rel = path.relative(dir, abs);
    // An unchanged stat stamp (as git's index does) serves a file without reading it; a
    // changed one falls back to the content hash, so a touched but unchanged file still hits.
    const stamp = cache ? statStamp(abs) : '';
    let hit = cache?.byStamp(rel, stamp);
    let text: FileText | undefined;
    let hash = '';
    if (!hit && cache) {
      text = readFileText(abs);
      // Invalid bytes decode to U+FFFD: hash that they were there, or they could match a valid file's literal U+FFFD.
      hash = createHash('sha1').update(text.text).update(text.invalidUtf8 ? '\u0000invalid-utf8' : '').digest('hex');
      hit = cache.get(rel, hash, stamp);
    }
    if (hit) {
      files.push({ file: new SourceFile(display(abs), text?.text ?? (() => readFileSync(abs, 'utf8'))), value: hit.value as PipelineFileValue, items: hit.items });
      continue;
    }
    const file = new SourceFile(display(abs), text ?? readFileText(abs));
    const parsed = file.parse();
    if (parsed.diagnostics.length > 0 && parsed.value === undefined) {
      ds.push(...parsed.diagnostics);
      continue;
    }
    const schemaErrors = validatePipelineFile(parsed.value, file);
    if (schemaErrors.length > 0) {
      ds.push(...schemaErrors);
      continue;
    }
    const items = itemPositions(file, parsed.value);
    file.release();
    files.push({ file, value: parsed.value as PipelineFileValue, items });
    cache?.set(rel, hash, stamp, parsed.value, items);
  }
  cache?.save();
  if (ds.length > 0) return fail(...sortDiagnostics(ds));

  const built = buildDefinitions(dir, projectDir, files);
  if (!built.ok) return fail(...sortDiagnostics(built.diagnostics));
  return ok(built.value);
}

/**
 * Every `*.yaml`/`*.yml` below `dir`, sorted; hidden directories and node_modules are
 * skipped. Symbolic links are followed (a Kubernetes ConfigMap volume is links into its
 * hidden `..data` folder), each real directory walked once (no loop), dangling links skipped.
 */
export function findPipelineFiles(dir: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const isYaml = (name: string) => name.endsWith('.yaml') || name.endsWith('.yml');
  const walk = (d: string) => {
    let real: string;
    try {
      real = realpathSync(d);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = path.join(d, e.name);
      let kind: 'dir' | 'file' | undefined = e.isDirectory() ? 'dir' : e.isFile() ? 'file' : undefined;
      if (e.isSymbolicLink()) {
        try {
          const st = statSync(p);
          kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : undefined;
        } catch {
          kind = undefined; // dangling
        }
      }
      if (kind === 'dir') walk(p);
      else if (kind === 'file' && isYaml(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** A path as shown in messages: relative to the working directory when inside it. */
export function display(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

function defaultCacheDir(projectDir: string): string | false {
  if (process.env.RUNNER_NO_CACHE === '1') return false;
  const home = homeOf(projectDir);
  return path.join(home, 'cache');
}

// ---- the parse cache ----

/**
 * A file's identity and version as the file system sees it, or '' for a file modified in
 * the last few seconds: file times are coarse (a clock tick), so a same-size rewrite
 * within one tick keeps its stamp; such a "racily clean" file is always hashed (as git does).
 */
function statStamp(abs: string): string {
  const st = statSync(abs, { bigint: true });
  if (Date.now() - Number(st.mtimeNs / 1_000_000n) < RACY_MS) return '';
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** Files changed more recently than this are not trusted by stamp. */
const RACY_MS = 3_000;

interface CacheEntry {
  hash: string;
  /** inode, size, mtime and ctime when the file was last read. */
  stamp?: string;
  value: unknown;
  items: ItemPositions;
}

interface CacheFile {
  format: string;
  files: Record<string, CacheEntry>;
}

/** Changes whenever the schemas change, so a cached file is never trusted against a new format. */
let formatId: string | undefined;
function cacheFormat(): string {
  formatId ??= createHash('sha1').update(JSON.stringify([pipelineSchema, HANDLER_SCHEMAS, 2])).digest('hex');
  return formatId;
}

function openCache(dir: string | false) {
  if (!dir) return undefined;
  const file = path.join(dir, 'definitions.json');
  let data: CacheFile = { format: cacheFormat(), files: {} };
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (parsed.format === data.format) data = parsed;
  } catch {
    // No cache yet, or unreadable: start afresh.
  }
  const used = new Set<string>();
  let dirty = false;
  return {
    /** The entry whose stat stamp is unchanged. */
    byStamp(rel: string, stamp: string): CacheEntry | undefined {
      const e = data.files[rel];
      if (!e || !stamp || e.stamp !== stamp) return undefined;
      used.add(rel);
      return e;
    },
    /** The entry whose content hash matches; its stamp is updated. */
    get(rel: string, hash: string, stamp: string): CacheEntry | undefined {
      used.add(rel);
      const e = data.files[rel];
      if (!e || e.hash !== hash) return undefined;
      if (stamp && e.stamp !== stamp) {
        e.stamp = stamp;
        dirty = true;
      }
      return e;
    },
    set(rel: string, hash: string, stamp: string, value: unknown, items: ItemPositions): void {
      data.files[rel] = { hash, stamp, value, items };
      dirty = true;
    },
    save(): void {
      for (const rel of Object.keys(data.files)) {
        if (!used.has(rel)) {
          delete data.files[rel];
          dirty = true;
        }
      }
      if (!dirty) return;
      try {
        mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(data));
        renameSync(tmp, file);
      } catch {
        // A read-only RUNNER_HOME only costs speed.
      }
    },
  };
}
