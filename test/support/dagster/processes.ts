/**
 * Child processes of the real-Dagster tests: each in its own process group (so a code
 * server's run workers go with it), its output kept for the error of a start that fails,
 * and ended as a group (SIGTERM, then SIGKILL). Should the test process die without
 * stopping them (a killed vitest worker), a watchdog per group kills the group within a
 * second, so no Dagster outlives its test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A started process and what it printed. */
export interface Proc {
  name: string;
  child: ChildProcess;
  /** The last 20,000 characters of stdout and stderr together. */
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `cmd` in its own process group. */
export function startProc(name: string, cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd: string }): Proc {
  const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString('utf8')).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  if (child.pid !== undefined) {
    const watchdog = spawn('sh', ['-c', 'while kill -0 "$0" 2>/dev/null && kill -0 -"$1" 2>/dev/null; do sleep 1; done; kill -KILL -"$1" 2>/dev/null', String(process.pid), String(child.pid)], { detached: true, stdio: 'ignore' });
    watchdog.unref();
  }
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null)));
    child.on('error', (err) => {
      out += `\n${String(err)}`;
      resolve(-1);
    });
  });
  return { name, child, output: () => out, exited };
}

/** Ends a process and its group: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProc(p: Proc, graceMs = 5000): Promise<void> {
  const pid = p.child.pid;
  if (pid === undefined) return;
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(-pid, s);
    } catch {
      /* the group is gone */
    }
  };
  signal('SIGTERM');
  const done = await Promise.race([p.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), graceMs))]);
  // The leader may be gone while members (run workers) linger: the group gets SIGKILL either way.
  signal('SIGKILL');
  if (!done) await p.exited;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Polls `check` until it returns a value; fails loudly (with the output of `procs`) when
 * one of them exits or `timeoutMs` passes.
 */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, procs: Proc[], timeoutMs: number, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  const dead = new Set<string>();
  for (const p of procs) void p.exited.then(() => dead.add(p.name));
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    const gone = procs.filter((p) => dead.has(p.name));
    if (gone.length > 0 || Date.now() > end) {
      const why = gone.length > 0 ? `${gone.map((p) => p.name).join(', ')} exited` : `not within ${Math.round(timeoutMs / 1000)} s`;
      const logs = procs.map((p) => `--- ${p.name} (exit ${p.child.exitCode ?? 'running'}):\n${p.output().slice(-4000)}`).join('\n');
      throw new Error(`${what}: ${why}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
