/**
 * The installed tools: each virtual environment under `tools/` with its manifest
 * (`runner-tool.json`, written last by a successful install), and the choice of an
 * installed one that fits a version spec and a plugin set.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST, toolsDir } from './paths.js';
import { compareVersions, matches, type VersionSpec } from './versions.js';

/** One installed tool, as `runner tools list --json` prints it. */
export interface ToolRecord {
  /** The tool, `openmetadata`. */
  name: string;
  /** The pip package, `openmetadata-ingestion`. */
  package: string;
  /** The installed release, e.g. `1.7.7.4`. */
  version: string;
  /** The extras installed with it, sorted. */
  plugins: string[];
  /** The absolute path of its `metadata` executable. */
  metadata: string;
  /** The virtual environment. */
  dir: string;
  /** `pip` or `uv`. */
  installer: string;
  /** ISO 8601. */
  installed_at: string;
}

/** Every installed tool (venvs with a readable manifest whose executable exists), by name, version, plugins. */
export function listTools(home: string): ToolRecord[] {
  const dir = toolsDir(home);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: ToolRecord[] = [];
  for (const n of names) {
    const r = readManifest(path.join(dir, n));
    if (r && existsSync(r.metadata)) out.push(r);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || compareVersions(a.version, b.version) || a.plugins.join(',').localeCompare(b.plugins.join(',')));
}

/** The manifest of a venv directory, or undefined (not a finished install). */
export function readManifest(dir: string): ToolRecord | undefined {
  try {
    const v = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as ToolRecord;
    return typeof v.version === 'string' && typeof v.metadata === 'string' && Array.isArray(v.plugins) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the manifest (the last act of a successful install). */
export function writeManifest(r: ToolRecord): void {
  writeFileSync(path.join(r.dir, MANIFEST), JSON.stringify(r, null, 2) + '\n');
}

/**
 * The installed tool that fits: its version satisfies `spec` and it has every plugin
 * wanted (more is fine). The newest version wins, then the smallest plugin set.
 */
export function findInstalled(home: string, name: string, spec: VersionSpec, plugins: string[]): ToolRecord | undefined {
  const fits = listTools(home).filter((t) => t.name === name && matches(spec, t.version) && plugins.every((p) => t.plugins.includes(p)));
  fits.sort((a, b) => compareVersions(b.version, a.version) || a.plugins.length - b.plugins.length);
  return fits[0];
}
