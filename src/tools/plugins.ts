/**
 * The plugin set (pip extras of openmetadata-ingestion) a set of workflows needs: each
 * connector's source type maps to the extra holding its client library
 * (`openmetadata-extras.json`, read from the real wheels' METADATA). For a release whose
 * extras are known, an extra it does not provide is left out; an unknown plugin name given
 * by hand is an error naming the closest extra.
 */
import data from './openmetadata-extras.json' with { type: 'json' };
import { closest } from '../util/suggest.js';

const EXTRAS = data.extras as Record<string, string[]>;
const CONNECTORS = data.connectors as Record<string, string | null>;
const FIXES = data.fixes as { onlyBinary: string[]; extraRequirements: Record<string, string[]> };

/** The pip package of the OpenMetadata CLI. */
export const OPENMETADATA_PACKAGE = data.package;

/** A plugin name pip accepts in `pkg[a,b]`. */
const PLUGIN = /^[a-z0-9][a-z0-9._-]*$/;

/** The connector of a workflow's source type: `trino-lineage` → `trino`. */
export function connectorOf(sourceType: string): string {
  return sourceType.toLowerCase().replace(/-(lineage|usage)$/, '');
}

/** The extra a source type needs (undefined when none: a base dependency, or not known). */
export function pluginOf(sourceType: string): string | undefined {
  return CONNECTORS[connectorOf(sourceType)] ?? undefined;
}

/** Sorted, without duplicates. */
export function normalizePlugins(plugins: Iterable<string>): string[] {
  return [...new Set([...plugins].map((p) => p.trim().toLowerCase()).filter((p) => p !== ''))].sort();
}

/** The extras of a release known from its METADATA (by major.minor), or undefined. */
export function knownExtras(version: string): string[] | undefined {
  const mm = version.split('.').slice(0, 2).join('.');
  const key = Object.keys(EXTRAS).find((v) => v.split('.').slice(0, 2).join('.') === mm);
  return key ? EXTRAS[key] : undefined;
}

/** The plugins `version` can install: those it does not provide are dropped (and named). */
export function pluginsFor(version: string, plugins: string[]): { plugins: string[]; dropped: string[] } {
  const known = knownExtras(version);
  const all = normalizePlugins(plugins);
  if (!known) return { plugins: all, dropped: [] };
  return { plugins: all.filter((p) => known.includes(p)), dropped: all.filter((p) => !known.includes(p)) };
}

/** Why a plugin name given by hand is wrong, or undefined when it is fine. */
export function checkPluginName(name: string, version?: string): string | undefined {
  if (!PLUGIN.test(name)) return `plugin \`${name}\` is not a pip extra name (lower-case letters, digits, \`.\`, \`_\`, \`-\`)`;
  const known = version ? knownExtras(version) : [...new Set(Object.values(EXTRAS).flat())];
  if (!known || known.includes(name)) return undefined;
  const near = closest(name, known);
  return `openmetadata-ingestion${version ? ` ${version}` : ''} has no plugin \`${name}\`${near.length > 0 ? ` (did you mean ${near.map((n) => `'${n}'`).join(', ')}?)` : ''}`;
}

/**
 * What an install of `version` needs beyond the package itself (gaps of the real releases,
 * see `fixes` in openmetadata-extras.json): requirements it forgot, and packages pip must
 * take as wheels only.
 */
export function packagingFixes(version: string): { requirements: string[]; onlyBinary: string[] } {
  const mm = version.split('.').slice(0, 2).join('.');
  return { requirements: [...(FIXES.extraRequirements[mm] ?? [])], onlyBinary: [...FIXES.onlyBinary] };
}
