/**
 * Version specs of a tool: an exact release (`1.7.7.4`), a wildcard (`1.7.*`, pip's
 * `==1.7.*`: the newest release of that prefix) or `server` (the OpenMetadata server's
 * major.minor, asked in preflight). Releases are compared as numbers, part by part;
 * pre-releases and dev builds are never chosen by a wildcard.
 */

/** A parsed version spec. */
export type VersionSpec =
  | { kind: 'exact'; version: string; text: string }
  | { kind: 'wildcard'; prefix: number[]; text: string }
  | { kind: 'server'; text: string };

const EXACT = /^\d+(?:\.\d+){1,3}$/;
const WILDCARD = /^(\d+(?:\.\d+){0,2})\.\*$/;

/** Parses `1.7.7.4`, `1.7.*` or `server`; a message says what is accepted otherwise. */
export function parseVersionSpec(text: string): { ok: true; value: VersionSpec } | { ok: false; message: string } {
  const t = text.trim();
  if (t === 'server') return { ok: true, value: { kind: 'server', text: t } };
  if (EXACT.test(t)) return { ok: true, value: { kind: 'exact', version: t, text: t } };
  const m = WILDCARD.exec(t);
  if (m) return { ok: true, value: { kind: 'wildcard', prefix: m[1]!.split('.').map(Number), text: t } };
  return { ok: false, message: `version \`${text}\` is not a release (\`1.7.7.4\`), a wildcard (\`1.7.*\`) or \`server\`` };
}

/** Whether `version` is a final release (digits and dots only). */
export function isRelease(version: string): boolean {
  return EXACT.test(version);
}

/** Compares two releases part by part (`1.10.0` > `1.9.9`; missing parts count as 0). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether the release `version` satisfies `spec` (`server` matches nothing: resolve it first). */
export function matches(spec: VersionSpec, version: string): boolean {
  if (!isRelease(version)) return false;
  if (spec.kind === 'exact') return compareVersions(spec.version, version) === 0;
  if (spec.kind === 'server') return false;
  const parts = version.split('.').map(Number);
  return spec.prefix.every((p, i) => parts[i] === p) && parts.length > spec.prefix.length;
}

/** The newest of `versions` that satisfies `spec`, or undefined. */
export function newestMatching(spec: VersionSpec, versions: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const v of versions) if (matches(spec, v) && (best === undefined || compareVersions(v, best) > 0)) best = v;
  return best;
}

/** The wildcard of a server's major.minor: `1.7.3` → `1.7.*`. */
export function serverSpec(serverVersion: string): VersionSpec {
  const prefix = serverVersion.split('.').slice(0, 2).map(Number);
  return { kind: 'wildcard', prefix, text: `${prefix.join('.')}.*` };
}

/** The spec as pip writes it after the package name: `==1.7.7.4`, `==1.7.*`. */
export function pipSpecifier(spec: VersionSpec): string {
  return `==${spec.text}`;
}
