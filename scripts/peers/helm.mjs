// helm, for the chart tests (test/deploy/). No registry this project
// reaches ships a Linux helm binary (Debian has no helm package; the PyPI and npm
// candidates are wrappers or Windows/macOS builds), but helm is a Go module: it is built
// from source with the installed Go toolchain through the Go module proxy, at the version
// pinned in test/peers/versions.json ("helm": "4.3.2"), into <cache>/helm-<version>/bin/helm.
// Go's module and build caches live in the peers cache too, so a warm run does nothing.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

/** The peer's name (`node scripts/peers.mjs helm` installs only it). */
export const name = 'helm';

/** Where the helm binary of a version lives in the cache (the same rule as test/deploy/helm.ts). */
export function helmBinary(cacheDir, version) {
  return path.join(cacheDir, `helm-${version}`, 'bin', 'helm');
}

/** Builds helm at the pinned version unless the cache already holds it. */
export async function install({ cacheDir, pins, log }) {
  const version = pins.helm;
  if (typeof version !== 'string') throw new Error('test/peers/versions.json has no "helm" version');
  const binary = helmBinary(cacheDir, version);
  if (existsSync(binary)) {
    log(`helm ${version} cached (${binary})`);
    return;
  }
  const go = await execa('go', ['version'], { reject: false });
  if (go.exitCode !== 0) throw new Error('helm is built from source and needs Go on PATH ("go version" failed)');
  // Built into a scratch folder and moved in place at the end, so a cancelled build
  // never leaves a half-written binary that a later run would take for a cached one.
  const scratch = path.join(cacheDir, `helm-${version}.partial`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(path.join(scratch, 'bin'), { recursive: true });
  log(`building helm ${version} from the Go module proxy (${go.stdout.trim()}); this takes minutes once`);
  const env = {
    GOPATH: path.join(cacheDir, 'go'),
    GOMODCACHE: path.join(cacheDir, 'go', 'pkg', 'mod'),
    GOCACHE: path.join(cacheDir, 'go', 'cache'),
    GOBIN: path.join(scratch, 'bin'),
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-buildvcs=false -modcacherw',
    CGO_ENABLED: '0',
  };
  const build = await execa('go', ['install', '-ldflags', `-s -w -X helm.sh/helm/v4/internal/version.version=v${version}`, `helm.sh/helm/v4/cmd/helm@v${version}`], {
    env,
    reject: false,
    all: true,
  });
  if (build.exitCode !== 0) {
    rmSync(scratch, { recursive: true, force: true });
    throw new Error(`building helm ${version} failed:\n${String(build.all ?? '').slice(-4000)}`);
  }
  mkdirSync(path.dirname(path.dirname(binary)), { recursive: true });
  rmSync(path.dirname(path.dirname(binary)), { recursive: true, force: true });
  renameSync(scratch, path.dirname(path.dirname(binary)));
  const check = await execa(binary, ['version', '--short'], { reject: false });
  log(`helm ${check.stdout.trim() || version} built (${binary})`);
}
