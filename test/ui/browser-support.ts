/**
 * What the browser tests need: the built CLI (`npm run build` when dist/ is older than the
 * sources, then a private copy of bin/ and dist/ so another test rebuilding dist/ cannot
 * pull it away), `runner serve` as a child process, and headless Chromium through
 * playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { chromium, type Browser } from 'playwright-core';
import { PROJECT_ROOT, newestMtime } from '../support/bundle.js';

/** Debian's Chromium, as `.ci/run` installs it. */
export const CHROMIUM = '/usr/bin/chromium';


const COPY = path.join(PROJECT_ROOT, 'node_modules', '.cache', `runner-ui-e2e-${process.pid}`);

/** Builds when stale and copies bin/ and dist/ aside; returns the copy's `bin/runner.js` and `dist/ui`. */
export async function builtCli(): Promise<{ bin: string; uiDir: string; cleanup: () => void }> {
  const dist = path.join(PROJECT_ROOT, 'dist');
  const stale = () => {
    const built = [path.join(dist, 'cli.js'), path.join(dist, 'ui', 'app.js')];
    if (!built.every((f) => fs.existsSync(f))) return true;
    const sources = Math.max(newestMtime(path.join(PROJECT_ROOT, 'src')), newestMtime(path.join(PROJECT_ROOT, 'schemas')));
    return Math.min(...built.map((f) => fs.statSync(f).mtimeMs)) <= sources;
  };
  for (let attempt = 0; ; attempt++) {
    if (stale()) {
      const r = await execa('npm', ['run', 'build'], { cwd: PROJECT_ROOT, reject: false });
      if (r.exitCode !== 0) throw new Error(`npm run build failed:\n${r.stderr}`);
    }
    fs.rmSync(COPY, { recursive: true, force: true });
    try {
      fs.cpSync(dist, path.join(COPY, 'dist'), { recursive: true });
      fs.cpSync(path.join(PROJECT_ROOT, 'bin'), path.join(COPY, 'bin'), { recursive: true });
      if (fs.existsSync(path.join(COPY, 'dist', 'cli.js')) && fs.existsSync(path.join(COPY, 'dist', 'ui', 'app.js'))) break;
    } catch (err) {
      // Another test rebuilt dist/ while it was copied: build or copy again.
      if (attempt >= 2) throw err;
    }
    if (attempt >= 2) throw new Error('dist/ kept changing while it was copied');
  }
  return { bin: path.join(COPY, 'bin', 'runner.js'), uiDir: path.join(COPY, 'dist', 'ui'), cleanup: () => fs.rmSync(COPY, { recursive: true, force: true }) };
}

/** A running `runner serve`. */
export interface ServeChild {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT` (a wildcard bind is reached through loopback). */
  url: string;
  output: () => string;
  /** SIGTERM, then waits for the exit. */
  stop: () => Promise<number | null>;
}

/** Starts `node BIN serve ARGS` in `cwd`; resolves once it listens. */
export async function startServe(bin: string, cwd: string, args: string[], env: Record<string, string | undefined>): Promise<ServeChild> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 20_000);
    const look = () => {
      const m = /serving on (http:\/\/\S+?) /.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1'));
      }
    };
    child.stdout!.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}):\n${out}`));
    });
  });
  return {
    child,
    url,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Runs the CLI to its end. */
export async function runCli(bin: string, cwd: string, args: string[], env: Record<string, string | undefined>): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  const r = await execa(process.execPath, [bin, ...args], { cwd, env: { NO_COLOR: '1', ...env }, extendEnv: true, reject: false, timeout: 60_000 });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}
