/**
 * deploy/Dockerfile, tested statically (no container engine runs here): its instructions
 * are parsed and checked, and the file layout its COPY lines produce is rebuilt in a
 * temporary folder, built with the same build script, and run: the runner of that layout
 * must check the pipelines it ships.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyParts, envPairs, parseDockerfile, stages, type Instruction, type Stage } from './dockerfile.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const text = readFileSync(path.join(root, 'deploy/Dockerfile'), 'utf8');
const all = stages(parseDockerfile(text));
const build = all.find((s) => s.name === 'build')!;
const runtime = all[all.length - 1]!;
const ignore = readFileSync(path.join(root, 'deploy/Dockerfile.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

const of = (s: Stage, keyword: string): Instruction[] => s.instructions.filter((i) => i.keyword === keyword);
const last = (s: Stage, keyword: string): Instruction | undefined => of(s, keyword).at(-1);

/** Whether the build context leaves `rel` out (the patterns this .dockerignore uses: a path, or any depth with `**` + `/`). */
function ignored(rel: string): boolean {
  const parts = rel.split('/');
  return ignore.some((p) => {
    if (p.startsWith('**/')) return parts.includes(p.slice(3));
    const pp = p.split('/');
    return pp.every((seg, i) => parts[i] === seg);
  });
}

/** Where a COPY destination lands, relative to the stage's WORKDIR. */
function destIn(s: Stage, ins: Instruction, dest: string): string {
  const before = s.instructions.slice(0, s.instructions.indexOf(ins)).filter((i) => i.keyword === 'WORKDIR');
  const workdir = before.at(-1)?.args[0] ?? '/';
  return path.posix.resolve(workdir, dest);
}

describe('deploy/Dockerfile', () => {
  it('builds in a node:20-slim stage and runs in another, with the compilers only in the first', () => {
    expect(all.map((s) => s.from)).toEqual(['node:20-slim', 'node:20-slim']);
    expect(build.name).toBe('build');
    const buildRuns = of(build, 'RUN').map((i) => i.raw).join('\n');
    for (const pkg of ['python3', 'make', 'g++']) expect(buildRuns).toMatch(new RegExp(`apt-get install[^\\n]*\\s${pkg.replace('+', '\\+')}(\\s|$)`));
    expect(buildRuns).toContain('npm rebuild better-sqlite3');
    expect(buildRuns).toContain('npm run build');
    expect(buildRuns).toContain('npm prune --omit=dev');
    const runtimeRuns = of(runtime, 'RUN').map((i) => i.raw).join('\n');
    expect(runtimeRuns).not.toMatch(/\b(g\+\+|make|python3)\b/);
    // `npm run build` is the build script the test runs below.
    expect(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts.build).toBe('node scripts/build.mjs');
  });

  it('runs as a numeric non-root user, with RUNNER_HOME on a volume', () => {
    const user = last(runtime, 'USER')!.args[0]!;
    expect(user).toMatch(/^[0-9]+(:[0-9]+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    const env = Object.assign({}, ...of(runtime, 'ENV').map(envPairs)) as Record<string, string>;
    expect(env.RUNNER_HOME).toBe('/var/lib/runner');
    expect(of(runtime, 'VOLUME').flatMap((i) => i.args)).toEqual(['/var/lib/runner']);
    // The volume's mount point exists and belongs to that user (a fresh volume copies it).
    expect(of(runtime, 'RUN').map((i) => i.raw).join('\n')).toContain(`chown ${user} /var/lib/runner`);
    // USER comes after every RUN: nothing runs as root at start.
    const idx = runtime.instructions.indexOf(last(runtime, 'USER')!);
    expect(runtime.instructions.slice(idx).some((i) => i.keyword === 'RUN')).toBe(false);
  });

  it('starts `runner serve` on every interface, under tini, in exec form', () => {
    const entry = last(runtime, 'ENTRYPOINT')!;
    const cmd = last(runtime, 'CMD')!;
    expect(entry.json && cmd.json).toBe(true);
    expect(entry.args).toEqual(['tini', '--', 'node', '/app/bin/runner.js']);
    expect(cmd.args.slice(0, 3)).toEqual(['serve', '--host', '0.0.0.0']);
    expect(of(runtime, 'RUN').map((i) => i.raw).join('\n')).toMatch(/apt-get install[^\n]*\btini\b/);
    // The health check asks serve's default port (src/cli/commands/serve.ts), the one exposed.
    const serveSrc = readFileSync(path.join(root, 'src/cli/commands/serve.ts'), 'utf8');
    const port = /'--port <n>'[^\n]*, port, ([0-9]+)\)/.exec(serveSrc)![1]!;
    expect(last(runtime, 'EXPOSE')!.args).toEqual([port]);
    expect(last(runtime, 'HEALTHCHECK')!.raw).toContain(`http://127.0.0.1:${port}/healthz`);
  });

  it('copies only sources that exist and that the build context keeps', () => {
    const copies = all.flatMap((s) => of(s, 'COPY').filter((i) => !i.flags.from));
    expect(copies.length).toBeGreaterThan(5);
    for (const ins of copies) {
      for (const src of copyParts(ins).sources) {
        expect(existsSync(path.join(root, src)), `Dockerfile:${ins.line}: COPY ${src}`).toBe(true);
        expect(ignored(src), `Dockerfile:${ins.line}: ${src} is in Dockerfile.dockerignore`).toBe(false);
      }
    }
    // The runtime stage's --from=build sources are what the build stage makes in /app.
    for (const ins of of(runtime, 'COPY').filter((i) => i.flags.from)) {
      expect(ins.flags.from).toBe('build');
      for (const src of copyParts(ins).sources) expect(src).toMatch(/^\/app\/(package\.json|node_modules|dist)$/);
    }
    expect(ignored('node_modules') && ignored('src/x/node_modules') && ignored('.git')).toBe(true);
  });

  describe('the layout its COPY lines make', () => {
    let tmp: string;
    beforeAll(() => {
      tmp = mkdtempSync(path.join(os.tmpdir(), 'runner-image-'));
    });
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    /** Lays the stage's COPY lines out under `base` (the image's / ), from the repo or an earlier stage. */
    function layout(s: Stage, base: string, from: Record<string, string>): void {
      for (const ins of of(s, 'COPY')) {
        const { sources, dest } = copyParts(ins);
        for (const src of sources) {
          const origin = ins.flags.from ? path.join(from[ins.flags.from]!, src) : path.join(root, src);
          const target = path.join(base, destIn(s, ins, dest), dest.endsWith('/') ? path.basename(src) : '');
          mkdirSync(path.dirname(target), { recursive: true });
          // node_modules: `npm ci` makes it in the image; here the checkout's stands in.
          if (path.basename(src) === 'node_modules') symlinkSync(path.join(root, 'node_modules'), target);
          else cpSync(origin, target, { recursive: true, verbatimSymlinks: true });
        }
      }
    }

    it('builds with the build script and runs `runner check` on the pipelines it ships', async () => {
      const buildRoot = path.join(tmp, 'build');
      layout(build, buildRoot, {});
      symlinkSync(path.join(root, 'node_modules'), path.join(buildRoot, 'app/node_modules'));
      const built = await execa('node', ['scripts/build.mjs'], { cwd: path.join(buildRoot, 'app'), reject: false, all: true });
      expect(built.exitCode, built.all).toBe(0);

      const runRoot = path.join(tmp, 'runtime');
      layout(runtime, runRoot, { build: buildRoot });
      expect(existsSync(path.join(runRoot, 'app/dist/ui/app.js'))).toBe(true);
      // The ENTRYPOINT's script and the target of the `runner` link on PATH are in the layout.
      const script = last(runtime, 'ENTRYPOINT')!.args.at(-1)!;
      expect(existsSync(path.join(runRoot, script))).toBe(true);
      const link = /ln -s (\S+) \/usr\/local\/bin\/runner/.exec(of(runtime, 'RUN').map((i) => i.raw).join('\n'))!;
      expect(link[1]).toBe(script);
      const env = Object.assign({}, ...of(runtime, 'ENV').map(envPairs)) as Record<string, string>;
      const home = path.join(tmp, 'home');
      mkdirSync(home);
      const check = await execa('node', [path.join(runRoot, 'app/bin/runner.js'), 'check'], {
        cwd: tmp,
        env: { ...env, RUNNER_HOME: home, RUNNER_PIPELINES: path.join(runRoot, env.RUNNER_PIPELINES!) },
        extendEnv: false,
        reject: false,
        all: true,
      });
      expect(check.exitCode, check.all).toBe(0);
      expect(check.stdout).toMatch(/^ok: [0-9]+ assets/);
    });
  });
});
