/**
 * The OpenMetadata CLI as a tool: resolve the version spec (a wildcard to the newest
 * release the package index has, `server` to the server's major.minor), reuse an installed
 * venv that fits (same version, every plugin wanted), else install one under the
 * install lock. Two processes never install at once; the second finds the first's venv.
 */
import { acquireLock } from './lock.js';
import { findInstalled, listTools, type ToolRecord } from './manifest.js';
import { installLockFile } from './paths.js';
import { chooseInstaller, cacheEnv, installVenv } from './install.js';
import { runCommand } from './exec.js';
import { OPENMETADATA_PACKAGE, packagingFixes, pluginsFor } from './plugins.js';
import { newestMatching, serverSpec, type VersionSpec } from './versions.js';

/** The tool's name (its directory prefix and `runner tools install <name>`). */
export const OPENMETADATA_TOOL = 'openmetadata';

/** What {@link ensureOpenMetadata} found or installed. */
export interface EnsuredTool {
  record: ToolRecord;
  /** False when an installed venv was reused. */
  installed: boolean;
  /** Plugins the release does not provide, left out. */
  dropped: string[];
}

/** A result that carries a message on failure. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; message: string };

/** The venv of the OpenMetadata CLI that fits `spec` and `plugins`, installed when missing. Never rejects. */
export async function ensureOpenMetadata(o: EnsureOptions): Promise<Outcome<EnsuredTool>> {
  const processEnv = o.processEnv ?? process.env;
  let spec = o.spec;
  if (spec.kind === 'server') {
    if (!o.serverVersion) return { ok: false, message: 'openmetadata: version `server` needs the server\'s version, and the server did not give one' };
    spec = serverSpec(o.serverVersion);
  }
  // An exact release that is installed needs no index, no lock: the common case of every run.
  if (spec.kind === 'exact') {
    const { plugins, dropped } = pluginsFor(spec.version, o.plugins);
    const have = findInstalled(o.home, OPENMETADATA_TOOL, spec, plugins);
    if (have) return { ok: true, value: { record: have, installed: false, dropped } };
  }
  const version = await resolveVersion(spec, o);
  if (!version.ok) return version;
  const exact: VersionSpec = { kind: 'exact', version: version.value, text: version.value };
  const { plugins, dropped } = pluginsFor(version.value, o.plugins);
  const have = findInstalled(o.home, OPENMETADATA_TOOL, exact, plugins);
  if (have) return { ok: true, value: { record: have, installed: false, dropped } };

  const installer = chooseInstaller(processEnv);
  if (!installer.ok) return installer;
  let lock;
  try {
    lock = await acquireLock(installLockFile(o.home), `installing ${OPENMETADATA_PACKAGE}==${version.value}`, {
      signal: o.signal,
      onWait: (h) => o.log(`openmetadata: waiting for process ${h.pid} (${h.what}, since ${h.since})`),
    });
  } catch (err) {
    return { ok: false, message: `openmetadata: ${(err as Error).message}` };
  }
  try {
    // Whoever held the lock may just have installed the same thing.
    const now = findInstalled(o.home, OPENMETADATA_TOOL, exact, plugins);
    if (now) return { ok: true, value: { record: now, installed: false, dropped } };
    const r = await installVenv({
      home: o.home,
      tool: OPENMETADATA_TOOL,
      pkg: OPENMETADATA_PACKAGE,
      version: version.value,
      plugins,
      executable: 'metadata',
      verify: ['--version'],
      ...packagingFixes(version.value),
      installer: installer.value,
      log: o.log,
      signal: o.signal,
      processEnv,
      childEnv: o.childEnv,
    });
    return r.ok ? { ok: true, value: { record: r.value, installed: true, dropped } } : r;
  } finally {
    lock.release();
  }
}

/**
 * The release a spec means: itself when exact; for a wildcard, the newest matching release
 * the package index lists (`pip index versions`), else, when the index cannot be asked
 * (an air-gapped host), the newest matching installed one.
 */
export async function resolveVersion(spec: VersionSpec, o: ResolveOptions): Promise<Outcome<string>> {
  if (spec.kind === 'exact') return { ok: true, value: spec.version };
  if (spec.kind === 'server') return { ok: false, message: 'openmetadata: version `server` must be resolved with the server\'s version first' };
  const processEnv = o.processEnv ?? process.env;
  const python = processEnv.RUNNER_TOOLS_PYTHON || 'python3';
  const r = await runCommand([python, '-m', 'pip', 'index', 'versions', OPENMETADATA_PACKAGE], { base: o.childEnv, env: cacheEnv(o.home, processEnv), log: () => undefined, quiet: true, signal: o.signal });
  const listed = r.ok ? parseIndexVersions(r.tail.join('\n')) : [];
  const fromIndex = newestMatching(spec, listed);
  if (fromIndex) return { ok: true, value: fromIndex };
  const installed = newestMatching(spec, listTools(o.home).filter((t) => t.name === OPENMETADATA_TOOL).map((t) => t.version));
  if (installed) {
    o.log(`openmetadata: the package index ${r.ok ? `lists no release matching ${spec.text}` : 'could not be asked'}; using the installed ${installed}`);
    return { ok: true, value: installed };
  }
  if (r.ok) return { ok: false, message: `openmetadata: no release of ${OPENMETADATA_PACKAGE} matches ${spec.text} (newest listed: ${listed[0] ?? 'none'})` };
  const why = r.reason ?? `exit code ${r.exitCode}`;
  return { ok: false, message: `openmetadata: could not list the releases of ${OPENMETADATA_PACKAGE} to resolve ${spec.text} (\`${python} -m pip index versions\`: ${why}${r.tail.length > 0 ? `: ${r.tail.slice(-3).join(' ')}` : ''}); pin an exact version or install it ahead with \`runner tools install openmetadata\`` };
}

/** The releases in `pip index versions` output (`Available versions: 1.7.7.4, 1.7.7.3, ...`). */
export function parseIndexVersions(text: string): string[] {
  const m = /Available versions:\s*(.+)/.exec(text);
  return m ? m[1]!.split(',').map((v) => v.trim()).filter((v) => v !== '') : [];
}

/** Options of {@link resolveVersion}. */
export interface ResolveOptions {
  home: string;
  log: (line: string) => void;
  signal?: AbortSignal;
  processEnv?: Record<string, string | undefined>;
  /** The environment installer commands start from (step-env.ts childEnvironment); default: of process.env, without the definitions' secrets known. */
  childEnv?: Record<string, string>;
}

/** Options of {@link ensureOpenMetadata}. */
export interface EnsureOptions extends ResolveOptions {
  spec: VersionSpec;
  /** Wanted extras (any order; releases that lack one leave it out). */
  plugins: string[];
  /** The server's version, for a `server` spec. */
  serverVersion?: string;
}
