/**
 * `runner materialize`, end to end: load and check everything first (bad input runs and
 * records nothing, exit 2), then create the run, execute the plan with the store, the live
 * view and the summary collector on one event stream, and turn the outcome into the exit
 * code. Ctrl-C / SIGTERM cancel the run (130 / 143); a second signal kills at once.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { InputError, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Definitions } from '../definitions/model.js';
import type { EventSink } from './events.js';
import type { MaterializeOptions } from '../cli/commands/materialize.js';
import { loadWithEnv, runnerHome } from '../cli/options.js';
import { select } from '../selection/index.js';
import { selectionContext } from '../cli/selection.js';
import { getHandler, handlerNames, recoverHandlers } from '../handlers/registry.js';
import { didYouMean } from '../util/suggest.js';
import { buildPlan, renderStep, validatePlan, type Plan } from './plan.js';
import { execute, type ExecutorOptions, type RunOutcome } from './executor.js';
import { FanOut } from './sinks.js';
import { killAllNow } from './process-tree.js';
import { createRenderer } from '../output/index.js';
import { Tails, formatSummary } from '../output/summary.js';
import { formatPlan } from '../output/dry-run.js';
import { style, useColor } from '../output/style.js';
import type { Store } from '../storage/store.js';

/** Exit codes of materialize. */
const EXIT = { ok: 0, failure: 1, sigint: 130, sigterm: 143 } as const;

/** What a run of the command resolved before anything runs. */
interface Prepared {
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
    if (opts.dryRun) {
      printDryRun(p);
      return EXIT.ok;
    }
    return await run(p, opts);
  } finally {
    p.store?.close();
  }
}

async function openStore(defs: Definitions): Promise<Store> {
  const { Store } = await import('../storage/store.js');
  return Store.open(runnerHome(defs));
}

async function prepare(opts: MaterializeOptions): Promise<Prepared> {
  const { defs, env } = await loadWithEnv(opts);
  let selection: string;
  let job: string | undefined;
  if (opts.job !== undefined) {
    const j = defs.jobs.get(opts.job);
    if (!j) throw new InputError(`unknown job \`${opts.job}\`${didYouMean(opts.job, defs.jobs.keys())}; defined: ${[...defs.jobs.keys()].join(', ') || 'none'}`);
    selection = j.select;
    job = j.name;
  } else selection = opts.select!;

  // The store is opened now for a real run (it also reaps runs whose runner died); a dry
  // run opens it only when the selection asks for last statuses.
  let store = opts.dryRun ? undefined : await openStore(defs);
  let statuses: Map<string, string> | undefined;
  const needsStatus = /status\s*:/i.test(selection);
  if (needsStatus) {
    store ??= await openStore(defs);
    statuses = store.lastStepStatuses();
  }
  try {
    const r = select(selection, selectionContext(defs, statuses ? (k) => statuses.get(k) : undefined));
    if (!r.ok) throw new InputError(r.diagnostics);
    const plan = buildPlan(r.value, defs.assets, defs.graph);
    const ds: Diagnostic[] = validatePlan(plan, { handler: getHandler, env, processEnv: process.env, pools: defs.settings.pools });
    if (ds.length > 0) {
      if (ds.some((d) => d.message.includes('unknown handler'))) ds.push({ message: `known handlers: ${handlerNames().join(', ')}` });
      throw new InputError(ds);
    }
    if (opts.dryRun && store && !needsStatus) store.close();
    return { defs, env, plan, selection, job, store };
  } catch (err) {
    store?.close();
    throw err;
  }
}

function printDryRun(p: Prepared): void {
  const s = style(useColor(process.stdout));
  const rendered = p.plan.steps.map((step) => renderStep(step, getHandler(step.asset.handler)!, p.env, p.defs.projectDir, process.env));
  const head = `Plan for ${p.job ? `job ${p.job}` : `--select '${p.selection}'`} (environment ${p.env.name}): ${p.plan.steps.length} step${p.plan.steps.length === 1 ? '' : 's'}`;
  process.stdout.write(formatPlan(p.plan, rendered, s, head));
}

/**
 * Extension points for other parts of the runner: more event consumers (the notifier)
 * and the secrets of a run (resolver and masker). Defaults: none, identity.
 */
export interface RunHooks {
  sinks?: EventSink[];
  mask?: ExecutorOptions['mask'];
  resolveSecrets?: ExecutorOptions['resolveSecrets'];
}

/** The hooks of one run: the one place where secrets and notifications plug in. */
async function hooksFor(p: Prepared, store: Store): Promise<RunHooks> {
  const { runHooks } = await import('../notify/hooks.js');
  return runHooks({ defs: p.defs, env: p.env, store });
}

async function run(p: Prepared, opts: MaterializeOptions): Promise<number> {
  const { defs, env, plan } = p;
  const store = p.store!;
  const runId = randomUUID();
  recoverHandlers();
  const hooks = await hooksFor(p, store);
  const renderer = await createRenderer({ mode: opts.output, total: plan.steps.length });
  const tails = new Tails();
  const sink = new FanOut([store, tails, renderer, ...(hooks.sinks ?? [])]);
  store.createRun({ id: runId, trigger: { type: 'manual' }, env: env.name, selection: p.selection, job: p.job, keys: plan.steps.map((s) => s.key), pipelinesDir: defs.dir });

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

  let outcome: RunOutcome;
  try {
    await renderer.start();
    outcome = await execute({
      runId,
      plan,
      env,
      projectDir: defs.projectDir,
      handler: getHandler,
      sink,
      concurrency: opts.concurrency ?? defs.settings.concurrency ?? 4,
      failFast: opts.failFast,
      pools: defs.settings.pools,
      slots: store,
      processes: store,
      signal: cancel.signal,
      mask: hooks.mask,
      resolveSecrets: hooks.resolveSecrets,
    });
    await renderer.close();
    await sink.close();
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  store.flush();
  const logsAbs = path.dirname(store.logPath(runId, 'x'));
  const rel = path.relative(process.cwd(), logsAbs);
  const logsDir = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : logsAbs;
  const summary = formatSummary(outcome, tails, { logsDir, style: style(useColor(renderer.summaryToStdout ? process.stdout : process.stderr)) });
  (renderer.summaryToStdout ? process.stdout : process.stderr).write(summary);
  if (outcome.status === 'success') return EXIT.ok;
  if (outcome.status === 'canceled') return signalled === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
  return EXIT.failure;
}
