/**
 * Carrying on a run that a stopping serve handed over (handover.ts): the next serve has
 * re-attached to its Jobs and resumes the *same* run, under its own id. The executor gets
 * the whole plan of the run's recorded keys, each step's recorded status and attempts,
 * and the re-attached Jobs as attempts under way: finished steps stay as they were, a
 * Job's end is its step's end (a failure retried per the asset's policy), the steps that
 * had not started run once their upstream succeeded, and the run ends with its real
 * status and the usual alert. Resuming the same run (not a linked retry run) keeps one
 * record, one status and one alert per run, which is what a schedule's history, overlap
 * policy and recovery alerts read.
 */
import type { AssetDef } from '../definitions/model.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import { type Result, fail, ok } from '../diagnostics/diagnostic.js';
import { secretsIn } from '../definitions/interpolate.js';
import { getHandler } from '../handlers/registry.js';
import type { RunRecord } from '../storage/types.js';
import type { AttachedAttempt } from './resumed-steps.js';
import { type LaunchOptions, type Launched, launchRun, planRun } from './launch.js';

/** What resuming needs besides what any launch does. */
export interface ResumeOptions extends Omit<LaunchOptions, 'planned' | 'trigger' | 'runId' | 'resume' | 'beforeStart'> {
  /** The handed-over run, as recorded (the store has adopted it). */
  run: RunRecord;
  /** Per key, the re-attached attempt of each handed-over step. */
  attached: ReadonlyMap<string, AttachedAttempt>;
}

/** Resumes the run; an error value when the pipeline files no longer fit its steps (nothing ran then). */
export async function resumeRun(o: ResumeOptions): Promise<Result<Launched>> {
  const { run, defs, env } = o;
  const keys = run.steps.map((s) => s.key);
  // Every step of the run must still be an asset: the plan would leave a missing one out and the run would end without it.
  const gone = keys.filter((k) => !defs.assets.has(k));
  if (gone.length > 0) return fail(...gone.map((k) => ({ message: `its step \`${k}\` is no longer an asset in the pipeline files` })));
  const planned = planRun(defs, env, { keys, selection: run.selection, ...(run.job ? { job: run.job } : {}) }, { processEnv: o.processEnv });
  if (!planned.ok) return planned;
  const steps = new Map(run.steps.map((s) => [s.key, { status: s.status, attempts: s.attempts }]));
  const attachedAssets = [...o.attached.keys()].map((k) => defs.assets.get(k)).filter((a): a is AssetDef => a !== undefined);
  return ok(
    await launchRun({
      ...o,
      planned: planned.value,
      trigger: run.trigger,
      runId: run.id,
      resume: { steps, attached: o.attached },
      // The re-attached steps' output may show their secrets: the run's masker learns them first.
      beforeStart: async (resolver) => {
        const names = new Set(attachedAssets.flatMap((a) => [...stepSecretNames(a, env)]));
        if (names.size > 0) await resolver.resolve([...names]).catch(() => undefined);
      },
    }),
  );
}

/** The secrets a step of `asset` uses: those its config names and those its handler declares. */
export function stepSecretNames(asset: AssetDef, env: ResolvedEnvironment): Set<string> {
  const names = secretsIn(asset.config);
  for (const n of secretsIn(getHandler(asset.handler)?.secretRefs?.(asset, env) ?? [])) names.add(n);
  return names;
}
