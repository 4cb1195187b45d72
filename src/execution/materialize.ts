/**
 * `runner materialize`, end to end: load and check everything first (bad input runs and
 * records nothing, exit 2), then create the run, execute the plan with the store, the live
 * view and the summary collector on one event stream, and turn the outcome into the exit
 * code. Ctrl-C / SIGTERM cancel the run (130 / 143); a second signal kills at once.
 */
import path from 'node:path';
import { InputError } from '../diagnostics/diagnostic.js';
import type { Definitions } from '../definitions/model.js';
import type { MaterializeOptions } from '../cli/commands/materialize.js';
import { loadWithEnv, runnerHome, type RunOptions } from '../cli/options.js';
import { getHandler } from '../handlers/registry.js';
import { renderStep, withRetries, type Plan } from './plan.js';
import { launchRun, planRun, type Launched } from './launch.js';
import { tuneForRun } from './run-tuning.js';
import { killAllNow } from './process-tree.js';
import { createRenderer } from '../output/index.js';
import { Tails, formatSummary, locateArgs } from '../output/summary.js';
import { formatPlan } from '../output/dry-run.js';
import { style, useColor } from '../output/style.js';
import { Store, type Trigger } from '../storage/store.js';

/** Exit codes of materialize. */
const EXIT = { ok: 0, failure: 1, sigint: 130, sigterm: 143 } as const;

/** What a run of the command resolved before anything runs. */
export interface Prepared {
  defs: Definitions;
  env: Awaited<ReturnType<typeof loadWithEnv>>['env'];
  plan: Plan;
  selection: string;
  job?: string;
  store?: Store;
}

/** Runs `runner materialize`; resolves to the exit code. Bad input throws InputError (exit 2). */
export async function materialize(opts: MaterializeOptions): Promise<number> {
  if ((opts.select === undefined) === (opts.job === undefined)) {
    throw new InputError(opts.select === undefined ? 'say what to run: --select EXPR or --job NAME' : 'give either --select or --job, not both');
  }
  const p = await prepare(opts);
  try {
    if (opts.retries !== undefined) p.plan = withRetries(p.plan, opts.retries);
    if (opts.dryRun) {
      printDryRun(p, `Plan for ${p.job ? `job ${p.job}` : `--select '${p.selection}'`}`);
      return EXIT.ok;
    }
    return await runPrepared(p, opts, { type: 'manual' });
  } finally {
    p.store?.close();
  }
}

function openStore(defs: Definitions): Store {
  return Store.open(runnerHome(defs));
}

async function prepare(opts: MaterializeOptions): Promise<Prepared> {
  const { defs, env } = await loadWithEnv(opts);
  // The store is opened now for a real run (it also reaps runs whose runner died); a dry
  // run opens it only when the selection asks for last statuses.
  let store = opts.dryRun ? undefined : openStore(defs);
  try {
    let statuses: Map<string, string> | undefined;
    const lastStatus = (key: string) => {
      if (!statuses) {
        store ??= openStore(defs);
        statuses = store.lastStepStatuses();
      }
      return statuses.get(key);
    };
    const target = opts.job !== undefined ? { job: opts.job } : { select: opts.select! };
    const r = planRun(defs, env, target, { lastStatus });
    if (!r.ok) throw new InputError(r.diagnostics);
    return { defs, env, ...r.value, store };
  } catch (err) {
    store?.close();
    throw err;
  }
}

/** `--dry-run`: the plan and what each step would run; `what` names the run (`Plan for job X`). */
export function printDryRun(p: Prepared, what: string): void {
  const s = style(useColor(process.stdout));
  const rendered = p.plan.steps.map((step) => renderStep(step, getHandler(step.asset.handler)!, p.env, p.defs.projectDir, process.env));
  const head = `${what} (environment ${p.env.name}): ${p.plan.steps.length} step${p.plan.steps.length === 1 ? '' : 's'}`;
  process.stdout.write(formatPlan(p.plan, rendered, s, head));
}

/** Runs a prepared plan with the live view and the summary; resolves to the exit code. */
export async function runPrepared(p: Prepared, opts: RunOptions, trigger: Trigger): Promise<number> {
  const { defs, env, plan } = p;
  const store = p.store!;
  tuneForRun();
  const renderer = await createRenderer({ mode: opts.output, total: plan.steps.length });
  const tails = new Tails();

  const cancel = new AbortController();
  let signalled: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => {
    if (signalled) {
      // A second signal: kill every process tree now, and do not wait for long.
      killAllNow();
      setTimeout(() => process.exit(sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm), 2_000).unref();
      return;
    }
    signalled = sig;
    process.stderr.write(`\nrunner: ${sig === 'SIGINT' ? 'Ctrl-C' : sig}: canceling the run (again to kill at once)\n`);
    cancel.abort(sig);
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  let launched: Launched;
  try {
    await renderer.start();
    launched = await launchRun({
      defs,
      env,
      store,
      planned: p,
      trigger,
      sinks: [tails, renderer],
      signal: cancel.signal,
      concurrency: opts.concurrency,
      failFast: opts.failFast,
    });
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  const { runId, outcome } = launched;
  const logsAbs = path.dirname(store.logPath(runId, 'x'));
  const rel = path.relative(process.cwd(), logsAbs);
  const logsDir = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : logsAbs;
  const summary = formatSummary(outcome, tails, { logsDir, locate: locateArgs(opts.pipelines), style: style(useColor(renderer.summaryToStdout ? process.stdout : process.stderr)) });
  (renderer.summaryToStdout ? process.stdout : process.stderr).write(summary);
  if (outcome.status === 'success') return EXIT.ok;
  if (outcome.status === 'canceled') return signalled === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
  return EXIT.failure;
}
