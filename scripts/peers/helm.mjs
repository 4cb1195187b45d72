// helm, for the chart test (test/kubernetes/chart.test.ts renders deploy/helm/ with
// `helm template`): built from its Go module (helm.sh/helm/v4) at the version pinned in
// test/peers/versions.json, with the machine's Go toolchain, into
// <cache>/helm-<version>/bin/helm. A warm cache reuses the binary.
import { existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export const name = 'helm';

/** Where the helm binary of `version` lives in the cache. */
export function helmBinary(cacheDir, version) {
  return path.join(cacheDir, `helm-${version}`, 'bin', 'helm');
}

export async function install({ cacheDir, pins, log }) {
  const version = pins.helm;
  if (!version) return log('no pin, skipped');
  const bin = helmBinary(cacheDir, version);
  if (existsSync(bin)) return log(`reusing ${bin}`);
  let go = 'go';
  for (const candidate of ['go', '/usr/local/go/bin/go']) {
    try {
      execFileSync(candidate, ['version'], { stdio: 'ignore' });
      go = candidate;
      break;
    } catch {
      go = undefined;
    }
  }
  if (!go) return log('no Go toolchain: the chart test falls back to the typed objects');
  const gopath = path.join(cacheDir, 'go');
  mkdirSync(path.dirname(bin), { recursive: true });
  log(`building helm v${version} from helm.sh/helm/v4 (a few minutes once)`);
  execFileSync(go, ['install', `helm.sh/helm/v4/cmd/helm@v${version}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: path.dirname(bin), GOPATH: gopath, GOCACHE: path.join(gopath, 'cache'), GOFLAGS: '-modcacherw', CGO_ENABLED: '0' },
  });
}
