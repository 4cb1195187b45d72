/**
 * A fake `python3` with just what the runner's tool installer calls, recording every call
 * (argv, and the cache variables pip would use) as one JSON line in FAKE_PY_LOG:
 *
 * - `python3 -m venv DIR`: DIR/bin/python (a wrapper that runs this fake for the venv) and
 *   DIR/pyvenv.cfg, as `venv` makes them.
 * - `python3 -m pip index versions PKG`: pip's output format, the releases from
 *   FAKE_PIP_VERSIONS (comma-separated, newest first); FAKE_PIP_OFFLINE=1 fails as pip does
 *   without a network.
 * - `DIR/bin/python -m pip install ... 'PKG[extras]==V'`: pip-like progress lines, then
 *   DIR/bin/metadata, which runs test/support/fake-openmetadata/metadata as version V.
 *   FAKE_PIP_FAIL=1 fails as pip does for a release that does not exist; FAKE_PIP_BROKEN=1
 *   installs a `metadata` that fails on a missing module (as a real release can);
 *   FAKE_PIP_DELAY_MS waits before finishing (for the lock tests).
 */
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FAKE_METADATA = path.resolve(HERE, '..', 'fake-openmetadata', 'metadata');

function record(venv, args) {
  const log = process.env.FAKE_PY_LOG;
  if (!log) return;
  const entry = { pid: process.pid, venv: venv ?? null, argv: args, PIP_CACHE_DIR: process.env.PIP_CACHE_DIR ?? null, UV_CACHE_DIR: process.env.UV_CACHE_DIR ?? null, envNames: Object.keys(process.env).sort() };
  mkdirSync(path.dirname(log), { recursive: true });
  appendFileSync(log, JSON.stringify(entry) + '\n');
}

/** Runs the fake; `--venv DIR` first means "called as DIR/bin/python". */
export async function main(argv) {
  let venv;
  let args = argv;
  if (args[0] === '--venv') {
    venv = args[1];
    args = args.slice(2);
  }
  record(venv, args);
  if (args[0] === '-m' && args[1] === 'venv') return makeVenv(args[args.length - 1]);
  if (args[0] === '-m' && args[1] === 'pip' && args[2] === 'index') return indexVersions(args[4]);
  if (args[0] === '-m' && args[1] === 'pip' && args[2] === 'install') return install(venv, args.slice(3));
  if (args[0] === '--version') return void process.stdout.write('Python 3.11.7\n');
  process.stderr.write(`fake python3: unsupported call: ${args.join(' ')}\n`);
  process.exitCode = 2;
}

function makeVenv(dir) {
  const abs = path.resolve(dir);
  mkdirSync(path.join(abs, 'bin'), { recursive: true });
  writeFileSync(path.join(abs, 'pyvenv.cfg'), 'home = /usr/bin\nversion = 3.11.7\n');
  writeFileSync(path.join(abs, 'bin', 'python'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(HERE, 'python3')}" --venv "${abs}" "$@"\n`);
  chmodSync(path.join(abs, 'bin', 'python'), 0o755);
}

function indexVersions(pkg) {
  if (process.env.FAKE_PIP_OFFLINE === '1') {
    process.stderr.write("WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError'\nERROR: Could not find a version that satisfies the requirement " + pkg + ' (from versions: none)\n');
    process.exitCode = 1;
    return;
  }
  const versions = (process.env.FAKE_PIP_VERSIONS ?? '').split(',').filter(Boolean);
  if (versions.length === 0) {
    process.stderr.write(`ERROR: No matching distribution found for ${pkg}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${pkg} (${versions[0]})\nAvailable versions: ${versions.join(', ')}\n`);
}

async function install(venv, rest) {
  const spec = rest.find((a) => a.includes('==')) ?? '';
  const m = /^([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?==(.+)$/.exec(spec);
  if (!venv || !m) {
    process.stderr.write(`ERROR: Invalid requirement: '${spec}'\n`);
    process.exitCode = 1;
    return;
  }
  const [, pkg, , version] = m;
  process.stdout.write(`Collecting ${spec}\n  Downloading ${pkg.replaceAll('-', '_')}-${version}-py3-none-any.whl (5.1 MB)\n`);
  if (process.env.FAKE_PIP_FAIL === '1') {
    process.stderr.write(`ERROR: Could not find a version that satisfies the requirement ${spec} (from versions: 1.6.0.0, 1.7.7.4)\nERROR: No matching distribution found for ${spec}\n`);
    process.exitCode = 1;
    return;
  }
  const delay = Number(process.env.FAKE_PIP_DELAY_MS ?? 0);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  const metadata = path.join(venv, 'bin', 'metadata');
  // FAKE_PIP_BROKEN=1: an install whose CLI cannot import a module it needs (as a real release can).
  const broken = `#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho '  File "${venv}/bin/metadata", line 5, in <module>' >&2\necho "ModuleNotFoundError: No module named 'cachetools'" >&2\nexit 1\n`;
  writeFileSync(metadata, process.env.FAKE_PIP_BROKEN === '1' ? broken : `#!/bin/sh\nFAKE_OM_VERSION="${version}" exec "${FAKE_METADATA}" "$@"\n`);
  chmodSync(metadata, 0o755);
  process.stdout.write(`Installing collected packages: ${pkg}\nSuccessfully installed ${pkg}-${version}\n`);
}
