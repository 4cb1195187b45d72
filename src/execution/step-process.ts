/**
 * Running one program as part of a step, the one way handlers start processes: no shell,
 * its own process group, the step's environment with its mark added last, adopted into
 * the step's containment (cgroup, ledger), stdout and stderr handed on line by line.
 *
 * The runner never waits on inherited stdio: once the program has exited, its pipes are
 * read for a short grace (what it wrote last), then closed, and every process the step
 * left behind is ended (SIGTERM, SIGKILL after the kill grace). On timeout or cancel the
 * whole step ends within the kill grace plus about a second (0.5 s after the SIGKILL, 0.3 s
 * for the exit to be seen; the cgroup's removal is left to the run's end), whatever its
 * processes do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { LineSplitter } from './line-splitter.js';
import { killGraceMs } from './process-tree.js';
import type { StepContainment } from './containment/step.js';
import { ownCgroup } from './containment/own-cgroup.js';

/** After the program exited, how long pipes that something else holds open are still read. */
export const PIPE_GRACE_MS = 250;

/** After the step's processes were ended, how long the program's exit may take to be seen. */
const EXIT_WAIT_MS = 300;

/** How a step's program ended. */
export interface StepProcessResult {
  /** Its pid; undefined when it could not start. */
  pid?: number;
  /** Exit code, or undefined when a signal ended it (or it did not start). */
  exitCode?: number;
  signal?: string;
  /** Why it could not start: `ENOENT`, `EACCES`, ... and the message. */
  startError?: { code?: string; message: string };
  /** The step was aborted (timeout or cancel) while it ran. */
  aborted: boolean;
}

/** `sh -c` script: join the cgroup `$0` (writing 0 moves the writer), then become the program. */
const JOIN_AND_EXEC = '{ echo 0 > "$0/cgroup.procs"; } 2>/dev/null; exec "$@"';

/** The program's path as exec would find it (PATH search without a `/`), or why it cannot run. */
function findProgram(file: string, searchPath: string, cwd: string): string | { code: string; message: string } {
  const candidates = file.includes('/') ? [path.resolve(cwd, file)] : searchPath.split(':').filter(Boolean).map((d) => path.join(path.resolve(cwd, d), file));
  let denied = false;
  for (const c of candidates) {
    try {
      // No exception for a PATH entry that lacks it (the common case, and costly to throw).
      if (!fs.statSync(c, { throwIfNoEntry: false })?.isFile()) continue;
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES') denied = true;
    }
  }
  return denied ? { code: 'EACCES', message: `spawn ${file} EACCES` } : { code: 'ENOENT', message: `spawn ${file} ENOENT` };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `file args` in the step's containment until it and everything it left are gone. */
export async function runStepProcess(file: string, args: string[], o: StepProcessOptions): Promise<StepProcessResult> {
  const { contain, signal } = o;
  const grace = o.killGraceMs ?? killGraceMs();
  contain.prepare();
  let argv: [string, string[]] = [file, args];
  // From its own cgroup the runner moves the program after the spawn without a gap
  // (own-cgroup.ts); elsewhere the program joins its cgroup itself before it runs.
  const wrapped = contain.cgroup !== undefined && ownCgroup() === undefined;
  if (wrapped) {
    // Into the cgroup before the program runs, so that nothing it forks is outside.
    const found = findProgram(file, o.env.PATH ?? '', o.cwd ?? process.cwd());
    if (typeof found !== 'string') {
      await contain.release();
      return { aborted: false, startError: found };
    }
    argv = ['/bin/sh', ['-c', JOIN_AND_EXEC, contain.cgroup!, found, ...args]];
  }
  const child = execa(argv[0], argv[1], {
    cwd: o.cwd,
    env: { ...o.env, ...contain.env },
    extendEnv: false,
    buffer: false,
    detached: true, // its own process group: the whole tree can be signalled
    cleanup: false,
    stdin: 'ignore',
    reject: false,
    stripFinalNewline: false,
    windowsHide: true,
  });
  const pid = child.pid;
  // At once, before anything else is spawned: the wrapper joined the cgroup itself, else adopt settles it.
  if (pid !== undefined) contain.adopt(pid, wrapped);

  const splitters: LineSplitter[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    const split = new LineSplitter((line, partial) => o.onLine(line, stream, partial));
    splitters.push(split);
    child[stream]?.on('data', (chunk: Buffer) => split.push(chunk));
    child[stream]?.once('end', () => split.end());
  }
  const closePipes = (): void => {
    child.stdout?.destroy();
    child.stderr?.destroy();
  };

  let aborted = false;
  let ending: Promise<void> | undefined;
  const end = (ms: number): Promise<void> => (ending ??= contain.terminate(ms).then(closePipes));
  const onAbort = (): void => {
    aborted = true;
    o.onAbort?.();
    void end(grace);
  };
  let pipeTimer: NodeJS.Timeout | undefined;
  if (pid !== undefined) {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    // Exited, but its pipes are still open: something it started holds them. Read them a
    // moment longer, then close them and end what is left.
    child.once('exit', () => {
      pipeTimer = setTimeout(() => {
        closePipes();
        void end(grace);
      }, o.pipeGraceMs ?? PIPE_GRACE_MS);
    });
  }

  // Resolves when the program exited and its pipes closed; after an abort, once its
  // processes were ended even if its exit is never seen (a process stuck in the kernel).
  const done = child.then((r) => r);
  const result = await Promise.race([done, (async () => {
    if (!signal.aborted) await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    await ending;
    await sleep(EXIT_WAIT_MS);
    return undefined; // gave up waiting for the exit
  })()]);
  clearTimeout(pipeTimer);
  signal.removeEventListener('abort', onAbort);
  for (const s of splitters) s.end();
  // Whatever is left (detached without holding the pipes) ends with the step.
  await end(grace);
  await contain.release();

  if (result === undefined) return { pid, signal: 'SIGKILL', aborted };
  const code = (result as { code?: string }).code;
  if (pid === undefined || (result.failed && result.exitCode === undefined && !result.signal)) {
    return { aborted, startError: { code, message: result.originalMessage ?? result.shortMessage ?? 'could not start' } };
  }
  return { pid, aborted, ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}), ...(result.signal ? { signal: result.signal } : {}) };
}

/** How to run a step's program. */
export interface StepProcessOptions {
  /** The attempt's containment (RunContext.contain). */
  contain: StepContainment;
  /** Aborted on timeout or cancel. */
  signal: AbortSignal;
  cwd?: string;
  /** The program's whole environment (the mark is added to it). */
  env: Record<string, string>;
  /** Each line (or piece of a long line) of stdout and stderr. */
  onLine: (line: string, stream: 'stdout' | 'stderr', partial: boolean) => void;
  /** Called on timeout or cancel, before the processes are signalled (e.g. to stop a container). */
  onAbort?: () => void;
  /** Default PIPE_GRACE_MS. */
  pipeGraceMs?: number;
  /** Default killGraceMs() (RUNNER_KILL_GRACE). */
  killGraceMs?: number;
}
