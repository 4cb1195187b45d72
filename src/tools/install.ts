/**
 * Creating one tool's virtual environment: `python3 -m venv` and pip, or uv when it is on
 * PATH (RUNNER_TOOLS_INSTALLER=pip|uv decides otherwise), with the download cache under
 * `tools/cache` (RUNNER_TOOLS_CACHE). A failed install leaves nothing behind and says
 * why with the installer's last error lines.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { errorLines, onPath, runCommand } from './exec.js';
import { writeManifest, type ToolRecord } from './manifest.js';
import { toolsCacheDir, venvDir } from './paths.js';

/** The installer to use and how to call Python. */
export interface Installer {
  kind: 'pip' | 'uv';
  /** The Python that makes the venv (RUNNER_TOOLS_PYTHON, default `python3`). */
  python: string;
  /** The uv executable, when kind is `uv`. */
  uv?: string;
}

/** uv when on PATH (or RUNNER_TOOLS_INSTALLER=uv), else pip; a message when the choice cannot work. */
export function chooseInstaller(processEnv: Record<string, string | undefined> = process.env): { ok: true; value: Installer } | { ok: false; message: string } {
  const python = processEnv.RUNNER_TOOLS_PYTHON || 'python3';
  const want = processEnv.RUNNER_TOOLS_INSTALLER;
  if (want !== undefined && want !== '' && want !== 'pip' && want !== 'uv') return { ok: false, message: `RUNNER_TOOLS_INSTALLER must be \`pip\` or \`uv\`, not \`${want}\`` };
  const uv = want === 'pip' ? undefined : onPath('uv', processEnv);
  if (want === 'uv' && !uv) return { ok: false, message: 'RUNNER_TOOLS_INSTALLER=uv but `uv` is not on PATH' };
  return { ok: true, value: uv ? { kind: 'uv', python, uv } : { kind: 'pip', python } };
}

/** The environment variables that point pip and uv at the shared download cache. */
export function cacheEnv(home: string, processEnv: Record<string, string | undefined> = process.env): Record<string, string> {
  const cache = toolsCacheDir(home, processEnv);
  return { PIP_CACHE_DIR: path.join(cache, 'pip'), UV_CACHE_DIR: path.join(cache, 'uv'), PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };
}

/** `openmetadata-ingestion[dbt,trino]==1.7.7.4`. */
export function requirement(pkg: string, version: string, plugins: string[]): string {
  return `${pkg}${plugins.length > 0 ? `[${plugins.join(',')}]` : ''}==${version}`;
}

/** Creates the venv of `tool` at `version` with `plugins` and installs `pkg` into it. Never rejects. */
export async function installVenv(req: InstallRequest): Promise<{ ok: true; value: ToolRecord } | { ok: false; message: string }> {
  const { home, tool, pkg, version, plugins, installer, log } = req;
  const dir = venvDir(home, tool, version, plugins);
  const spec = requirement(pkg, version, plugins);
  const env = cacheEnv(home, req.processEnv);
  // A directory without a manifest is what an interrupted install left: start afresh.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.dirname(dir), { recursive: true });
  const python = path.join(dir, 'bin', 'python');
  const extra = [...(req.requirements ?? []), ...(req.onlyBinary ?? []).flatMap((p) => ['--only-binary', p])];
  const steps: Array<{ what: string; argv: string[] }> =
    installer.kind === 'uv'
      ? [
          { what: 'creating the virtual environment', argv: [installer.uv!, 'venv', '--python', installer.python, dir] },
          { what: `installing ${spec}`, argv: [installer.uv!, 'pip', 'install', '--python', python, spec, ...extra] },
        ]
      : [
          { what: 'creating the virtual environment', argv: [installer.python, '-m', 'venv', dir] },
          { what: `installing ${spec}`, argv: [python, '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', spec, ...extra] },
        ];
  log(`${tool}: installing ${spec} into ${dir} (${installer.kind})`);
  for (const s of steps) {
    log(`${tool}: ${s.what}`);
    const r = await runCommand(s.argv, { base: req.childEnv, env, log, signal: req.signal });
    if (!r.ok) {
      rmSync(dir, { recursive: true, force: true });
      const how = r.reason ?? `exit code ${r.exitCode}`;
      const lines = errorLines(r.tail);
      return { ok: false, message: `${tool}: ${s.what} failed (${how})${lines.length > 0 ? `:\n${lines.join('\n')}` : ''}` };
    }
  }
  const metadata = path.join(dir, 'bin', req.executable);
  if (!existsSync(metadata)) {
    rmSync(dir, { recursive: true, force: true });
    return { ok: false, message: `${tool}: ${spec} installed no \`${req.executable}\` executable` };
  }
  // A package whose dependencies resolved to something it cannot import installs fine and
  // fails at its first run: run it once now, so the failure is the install's.
  if (req.verify) {
    log(`${tool}: checking \`${req.executable} ${req.verify.join(' ')}\``);
    const r = await runCommand([metadata, ...req.verify], { base: req.childEnv, log, signal: req.signal });
    if (!r.ok) {
      rmSync(dir, { recursive: true, force: true });
      const lines = errorLines(r.tail);
      return { ok: false, message: `${tool}: ${spec} installed, but \`${req.executable} ${req.verify.join(' ')}\` failed (${r.reason ?? `exit code ${r.exitCode}`})${lines.length > 0 ? `:\n${lines.join('\n')}` : ''}` };
    }
  }
  const record: ToolRecord = { name: tool, package: pkg, version, plugins, metadata, dir, installer: installer.kind, installed_at: new Date().toISOString() };
  writeManifest(record);
  log(`${tool}: installed ${spec}: ${metadata}`);
  return { ok: true, value: record };
}

/** What {@link installVenv} installs. */
export interface InstallRequest {
  home: string;
  tool: string;
  pkg: string;
  /** An exact release. */
  version: string;
  /** Sorted extras. */
  plugins: string[];
  /** The executable the package must provide, e.g. `metadata`. */
  executable: string;
  /** Arguments that run the executable once as a check (e.g. `--version`). */
  verify?: string[];
  /** Requirements installed with the package (what a release forgot to declare). */
  requirements?: string[];
  /** Packages pip may take as wheels only. */
  onlyBinary?: string[];
  installer: Installer;
  log: (line: string) => void;
  signal?: AbortSignal;
  processEnv?: Record<string, string | undefined>;
  /** The environment the installer's commands start from (step-env.ts childEnvironment). */
  childEnv?: Record<string, string>;
}
