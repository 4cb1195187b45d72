/**
 * `runner retry RUN_ID`, end to end: find the run in the store (opening it reaps runs
 * whose runner died, so their unfinished steps count as not started), plan its steps that
 * did not succeed (rerun.ts), then run them as `runner materialize` runs a plan: the same
 * live view, summary, alerts and exit codes. Everything is checked first; a refused retry
 * runs and records nothing (exit 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../diagnostics/diagnostic.js';
import type { RetryCliOptions } from '../cli/commands/retry.js';
import { loadOrExit, runnerHome } from '../cli/options.js';
import { Store } from '../storage/store.js';
import { printDryRun, runPrepared } from './materialize.js';
import { withRetries } from './plan.js';
import { planRetry } from './rerun.js';

/** Runs `runner retry`; resolves to the exit code. Bad input throws InputError (exit 2). */
export async function retry(id: string, opts: RetryCliOptions): Promise<number> {
  const defs = await loadOrExit(opts);
  const home = runnerHome(defs);
  if (!fs.existsSync(path.join(home, 'runner.db'))) throw new InputError(`no run has id \`${id}\`: no runs are recorded in ${home}`);
  const store = Store.open(home);
  try {
    const found = store.findRun(id);
    if (!found.ok) throw new InputError(found.diagnostics);
    const run = found.value;
    const r = planRetry(defs, run, { env: opts.env });
    if (!r.ok) throw new InputError(r.refusal.diagnostics);
    const p = { defs, env: r.value.env, plan: r.value.plan, selection: r.value.selection, job: r.value.job, store };
    if (opts.retries !== undefined) p.plan = withRetries(p.plan, opts.retries);
    if (opts.dryRun) {
      printDryRun(p, `Plan for the retry of ${run.status === 'canceled' ? 'canceled' : 'failed'} run ${run.id.slice(0, 8)}`);
      return 0;
    }
    return await runPrepared(p, opts, r.value.trigger);
  } finally {
    store.close();
  }
}
