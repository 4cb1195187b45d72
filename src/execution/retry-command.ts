/**
 * `runner retry RUN_ID`, end to end: find the run in the store (opening it reaps runs
 * whose runner died, so their unfinished steps count as not started), plan its steps that
 * did not succeed (rerun.ts), then run them as `runner materialize` runs a plan: the same
 * live view, summary, alerts and exit codes. Everything is checked first; a refused retry
 * runs and records nothing (exit 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError, unwrap } from '../diagnostics/diagnostic.js';
import type { RetryCliOptions } from '../cli/commands/retry.js';
import { loadOrExit, runnerHome } from '../cli/options.js';
import { Store } from '../storage/store.js';
import { printDryRun, runPrepared } from './materialize.js';
import { withRetries } from './plan.js';
import { planRetry } from './rerun.js';

/** Runs `runner retry`; resolves to the exit code. Bad input throws InputError (exit 2). */
export async function retry(id: string | undefined, opts: RetryCliOptions): Promise<number> {
  const defs = await loadOrExit(opts);
  const home = runnerHome(defs);
  const none = id === undefined ? `no run to retry: no runs are recorded in ${home}` : `no run has id \`${id}\`: no runs are recorded in ${home}`;
  if (!fs.existsSync(path.join(home, 'runner.db'))) throw new InputError(none);
  const store = Store.open(home);
  try {
    const run = id === undefined ? store.listRuns({ limit: 1 })[0] : unwrap(store.findRun(id));
    if (!run) throw new InputError(none);
    const r = planRetry(defs, run, { env: opts.env });
    if (!r.ok) throw new InputError(r.refusal.diagnostics);
    // Checked again, atomically, when the retry is recorded (Store.createRun).
    const running = store.unfinishedRetryOf(run.id);
    if (running !== undefined) throw new InputError(`run ${run.id} is already being retried by run ${running}, which has not finished: wait for it (runner show ${running}) or cancel it`);
    const p = { defs, env: r.value.env, plan: r.value.plan, selection: r.value.selection, job: r.value.job, store };
    if (opts.retries !== undefined) p.plan = withRetries(p.plan, opts.retries);
    if (opts.dryRun) {
      printDryRun(p, `Plan for the retry of ${run.status === 'canceled' ? 'canceled' : 'failed'} run ${run.id.slice(0, 8)}`);
      return 0;
    }
    // Which run is retried, and what of it (stdout is only events with --output json).
    (opts.output === 'json' ? process.stderr : process.stdout).write(`runner: retrying run ${run.id.slice(0, 8)} (${run.status}): ${r.value.keys.length} of ${run.steps.length} steps did not succeed\n`);
    return await runPrepared(p, opts, r.value.trigger);
  } finally {
    store.close();
  }
}
