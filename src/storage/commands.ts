/**
 * The actions of `runner runs`, `runner show` and `runner logs`. They need only the
 * RUNNER_HOME (no valid definitions): `-p` merely locates the project whose `.runner/`
 * holds the store. A project without a store has no runs; reading never creates one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { InputError } from '../diagnostics/diagnostic.js';
import { runnerHome } from '../cli/options.js';
import { didYouMean } from '../util/suggest.js';
import { Store } from './store.js';
import { type RunRecord, type RunStatus, isFinished } from './types.js';
import { formatRun, formatRunsTable } from './present.js';
import { printLogs, type LogTarget } from './follow.js';

/** `-p` as the commands receive it. */
export interface HomeOptions {
  pipelines: string;
}

/** RUNNER_HOME for a command: $RUNNER_HOME, else `.runner/` beside the pipelines directory. */
export function homeFor(opts: HomeOptions): string {
  return runnerHome(path.dirname(path.resolve(opts.pipelines)));
}

function openExisting(home: string): Store | undefined {
  return fs.existsSync(path.join(home, 'runner.db')) ? Store.open(home) : undefined;
}

function useColor(): boolean {
  return process.stdout.isTTY === true && !process.env['NO_COLOR'];
}

/**
 * Standard output with back-pressure that stops quietly when the reader goes away
 * (`runner logs ID | head`): EPIPE ends the output, not the process with a stack trace.
 */
class Stdout {
  private readonly ac = new AbortController();
  /** Aborted when stdout is closed by the reader. */
  readonly closed = this.ac.signal;
  private readonly onError = (): void => this.ac.abort();

  constructor() {
    process.stdout.on('error', this.onError);
  }

  readonly write = async (chunk: string | Uint8Array): Promise<void> => {
    if (this.closed.aborted) return;
    if (!process.stdout.write(chunk)) await once(process.stdout, 'drain', { signal: this.closed }).catch(() => undefined);
  };

  dispose(): void {
    process.stdout.off('error', this.onError);
  }
}

/** Runs `body` with a guarded stdout, then releases it. */
async function withStdout<T>(body: (out: Stdout) => Promise<T>): Promise<T> {
  const out = new Stdout();
  try {
    return await body(out);
  } finally {
    out.dispose();
  }
}

function lookup(store: Store | undefined, home: string, id: string): RunRecord {
  if (!store) throw new InputError(`no run has id \`${id}\`: no runs are recorded in ${home}`);
  const r = store.findRun(id);
  if (!r.ok) throw new InputError(r.diagnostics);
  return r.value;
}

/** `runner runs`: recent runs, newest first, as a table or `{"runs": [...]}`. */
export async function runsCommand(opts: HomeOptions & { limit: number; status?: RunStatus; json?: boolean }): Promise<void> {
  const home = homeFor(opts);
  const store = openExisting(home);
  try {
    const runs = store ? store.listRuns({ limit: opts.limit, ...(opts.status ? { status: opts.status } : {}) }) : [];
    await withStdout(async ({ write }) => {
      if (opts.json) return write(JSON.stringify({ runs }, null, 2) + '\n');
      if (runs.length === 0) return write(`${opts.status ? `No ${opts.status} runs` : 'No runs'} recorded in ${home}.\n`);
      return write(formatRunsTable(runs, { color: useColor(), now: Date.now() }));
    });
  } finally {
    store?.close();
  }
}

/** `runner show RUN_ID`: one run and its steps. */
export async function showCommand(id: string, opts: HomeOptions & { json?: boolean }): Promise<void> {
  const home = homeFor(opts);
  const store = openExisting(home);
  try {
    const run = lookup(store, home, id);
    await withStdout(({ write }) => write(opts.json ? JSON.stringify(run, null, 2) + '\n' : formatRun(run, { color: useColor(), now: Date.now() }, store!.retriesOf(run.id))));
  } finally {
    store?.close();
  }
}

/** `runner logs RUN_ID [KEY]`: a step's log, or every step's prefixed by its key; `--follow` until the run ends. */
export async function logsCommand(id: string, key: string | undefined, opts: HomeOptions & { follow?: boolean; pollMs?: number }): Promise<void> {
  const home = homeFor(opts);
  const store = openExisting(home);
  try {
    const run = lookup(store, home, id);
    let targets: LogTarget[];
    if (key !== undefined) {
      const step = run.steps.find((s) => s.key === key) ?? run.steps.find((s) => s.key === key.replaceAll('__', '/'));
      if (!step) throw new InputError(`run ${run.id} has no step \`${key}\`${didYouMean(key, run.steps.map((s) => s.key))}`);
      targets = [{ key: step.key, path: step.log }];
    } else {
      targets = run.steps.map((s) => ({ key: s.key, path: s.log }));
    }
    const interrupt = new AbortController();
    const stop = (): void => {
      process.exitCode = 130;
      interrupt.abort();
    };
    process.once('SIGINT', stop);
    let lastReap = Date.now();
    try {
      await withStdout((out) =>
        printLogs(targets, {
          prefix: key === undefined,
          follow: opts.follow === true && !isFinished(run.status),
          pollMs: opts.pollMs ?? 200,
          signal: AbortSignal.any([interrupt.signal, out.closed]),
          write: out.write,
          finished: () => {
            // A run whose runner died would stay `started` forever: reap now and then.
            if (Date.now() - lastReap > 2000) {
              lastReap = Date.now();
              store!.reapOrphans();
            }
            const now = store!.getRun(run.id);
            return !now || isFinished(now.status);
          },
        }),
      );
    } finally {
      process.off('SIGINT', stop);
    }
  } finally {
    store?.close();
  }
}
