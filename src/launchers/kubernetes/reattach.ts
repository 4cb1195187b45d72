/**
 * Re-attaching after a restart. `runner serve` lists the Jobs it created in the
 * environment's namespace (by label) and looks at the runs the store holds for them:
 *
 * - A run the previous serve *handed over* (it stopped gracefully, see
 *   execution/handover.ts) is taken up (`Store.adoptRun`) and carried on under its own id
 *   (`resume`, execution/resume.ts): each handed-over step's Job is followed as the
 *   attempt under way, its log going on after the last line the step log's index
 *   recorded; a Job that is gone (deleted, or removed by its TTL while no serve ran) fails
 *   its step in plain words. The run's remaining steps then run and it ends with its real
 *   status and alert.
 * - A Job still running whose run was running when the previous serve *died* (the store
 *   reaped the run at start-up: failed, "the runner exited") is followed: its log goes on
 *   and its end is recorded as the step's result (`metadata.reattached`); the run stays
 *   failed.
 * - A Job still running whose run is over (or unknown to this store) is reaped: deleted
 *   with propagation Background, its pods waited for. Finished Jobs are left to their TTL;
 *   Jobs of runs that another live runner owns are left alone.
 */
import type { V1Job } from '@kubernetes/client-node';
import type { AssetDef, Definitions } from '../../definitions/model.js';
import type { ResolvedEnvironment } from '../../definitions/environment.js';
import type { RunEvent } from '../../execution/events.js';
import type { AttachedAttempt } from '../../execution/resumed-steps.js';
import type { StepResult } from '../../handlers/handler.js';
import type { Store } from '../../storage/store.js';
import type { RunRecord } from '../../storage/types.js';
import type { KubernetesSettingsDef } from '../../definitions/model.js';
import { ServeHandover } from '../../execution/handover.js';
import { stepSecretNames } from '../../execution/resume.js';
import { lastSourceTime } from '../../storage/logs.js';
import { Masker } from '../../secrets/masker.js';
import { SecretResolver } from '../../secrets/resolver.js';
import { type KubeClients, KubeError, call, connect, describeError } from './client.js';
import { deleteJob } from './cleanup.js';
import { JobFollower, type KubernetesLauncherOptions } from './launcher.js';
import { ASSET_KEY_ANNOTATION, LABELS, MANAGED_BY, attemptSelector, jobName, selector } from './names.js';
import { jobFailure } from './pod-state.js';
import { stepSettings } from './settings.js';

/** What re-attaching needs. */
export interface ReattachOptions extends KubernetesLauncherOptions {
  store: Store;
  defs: Definitions;
  env: ResolvedEnvironment & { kubernetes: KubernetesSettingsDef };
  /** Runs the store reaped when this serve started: their Jobs are followed. */
  reaped: ReadonlySet<string>;
  /** Carries on a handed-over run (serve: execution/resume.ts with its alerts); resolves when the run ended or was handed over again. */
  resume: (run: RunRecord, attached: ReadonlyMap<string, AttachedAttempt>, signal: AbortSignal) => Promise<void>;
  log: { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void };
}

/** A re-attach in progress: what it found, and a way to let go (serve shutting down). */
export interface Reattachment {
  followed: string[];
  reaped: string[];
  /** Ids of the handed-over runs taken up and carried on. */
  resumed: string[];
  /** Settles when every followed Job ended (or was let go) and every resumed run ended or was handed over again. */
  done: Promise<void>;
  /** Stops following, leaving the Jobs running; resumed runs are handed over again. */
  detach(): void;
  /** Cancels a resumed run (its Jobs are deleted, as any cancel does); false when it is not one of them or has ended. */
  cancel(runId: string, reason: Error): boolean;
}

const finished = (job: V1Job) => job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') ?? false;

/** Takes up the environment's handed-over runs, then follows or reaps each Job of the environment. */
export async function reattach(o: ReattachOptions): Promise<Reattachment> {
  const k = (o.connect ?? (() => connect(o.env.kubernetes, o.processEnv)))();
  const followers: JobFollower[] = [];
  const controllers = new Map<string, AbortController>();
  const waits: Array<Promise<void>> = [];
  const out: Reattachment = {
    followed: [],
    reaped: [],
    resumed: [],
    done: Promise.resolve(),
    detach: () => {
      followers.forEach((f) => f.detach());
      controllers.forEach((c) => c.abort(new ServeHandover()));
    },
    cancel: (runId, reason) => {
      const c = controllers.get(runId);
      if (!c || c.signal.aborted) return false;
      c.abort(reason);
      return true;
    },
  };
  for (const h of o.store.handedOverRuns().filter((r) => r.env === o.env.name)) {
    const steps = o.store.adoptRun(h.id);
    const run = steps && o.store.getRun(h.id);
    if (!steps || !run) continue;
    const attached = new Map<string, AttachedAttempt>();
    for (const st of steps) {
      const attempts = run.steps.find((s) => s.key === st.key)?.attempts ?? 1;
      attached.set(st.key, (ctx) => followHandedOver(k, o, run.id, st.key, attempts, ctx));
    }
    const ac = new AbortController();
    controllers.set(run.id, ac);
    out.resumed.push(run.id);
    o.log.info(`taking up run ${run.id} that the previous serve handed over`, { run_id: run.id, jobs: steps.map((s) => s.job) });
    waits.push(
      o
        .resume(run, attached, ac.signal)
        .catch((err: unknown) => o.log.warn(`resuming run ${run.id} failed: ${describeError(err)}`, { run_id: run.id }))
        .then(() => reapEnded(k, o, run.id))
        .finally(() => controllers.delete(run.id)),
    );
  }
  const list = await call('list Jobs', () => k.batch.listNamespacedJob({ namespace: k.namespace, labelSelector: selector({ [LABELS.managedBy]: MANAGED_BY, [LABELS.env]: o.env.name }) }));
  for (const job of list.items) {
    if (finished(job)) continue;
    const name = job.metadata!.name!;
    const runId = job.metadata?.labels?.[LABELS.runId] ?? '';
    const key = job.metadata?.annotations?.[ASSET_KEY_ANNOTATION] ?? '';
    const attempt = Number(job.metadata?.labels?.[LABELS.attempt] ?? '1');
    const run = runId ? o.store.getRun(runId) : undefined;
    const asset = o.defs.assets.get(key);
    if (run && (run.status === 'queued' || run.status === 'started')) continue; // a live runner (maybe this one, resuming it) owns it
    if (run && o.reaped.has(runId) && asset) {
      out.followed.push(name);
      const follower = await follow(k, job, o, runId, key, attempt);
      followers.push(follower.follower);
      waits.push(follower.done);
      continue;
    }
    try {
      await deleteJob(k, name, { podSelector: selector({ [LABELS.runId]: runId, [LABELS.attempt]: String(attempt) }), pollMs: o.pollMs, goneTimeoutMs: o.goneTimeoutMs });
      out.reaped.push(name);
      o.log.info(`reaped Job ${k.namespace}/${name}: its run ${run ? `is over (${run.status})` : 'is not in this store'}`, { run_id: runId, key });
    } catch (err) {
      o.log.warn(`cannot reap Job ${k.namespace}/${name}: ${describeError(err)}`, { run_id: runId });
    }
  }
  out.done = Promise.all(waits).then(() => undefined);
  return out;
}

/**
 * After a resumed run ended: deletes the Jobs of it still running. A run that could not be
 * carried on (its pipeline files no longer plan it) fails without following them, and
 * nothing else would end them before their deadline. A run handed over again is left alone.
 */
async function reapEnded(k: KubeClients, o: ReattachOptions, runId: string): Promise<void> {
  const run = o.store.getRun(runId);
  if (!run || run.status === 'queued' || run.status === 'started') return;
  try {
    const list = await call('list Jobs', () => k.batch.listNamespacedJob({ namespace: k.namespace, labelSelector: selector({ [LABELS.managedBy]: MANAGED_BY, [LABELS.runId]: runId }) }));
    for (const job of list.items.filter((j) => !finished(j))) {
      const name = job.metadata!.name!;
      const attempt = job.metadata?.labels?.[LABELS.attempt] ?? '1';
      await deleteJob(k, name, { podSelector: selector({ [LABELS.runId]: runId, [LABELS.attempt]: attempt }), pollMs: o.pollMs, goneTimeoutMs: o.goneTimeoutMs });
      o.log.info(`reaped Job ${k.namespace}/${name}: its run is over (${run.status})`, { run_id: runId });
    }
  } catch (err) {
    o.log.warn(`cannot reap the Jobs of run ${runId}: ${describeError(err)}`, { run_id: runId });
  }
}

/** Follows the Job of a handed-over step as the resumed run's attempt under way. */
async function followHandedOver(k: KubeClients, o: ReattachOptions, runId: string, key: string, attempt: number, ctx: Parameters<AttachedAttempt>[0]): Promise<StepResult> {
  const name = jobName(runId, key, attempt);
  const where = `Job ${k.namespace}/${name}`;
  const asset = o.defs.assets.get(key);
  if (!asset) return { ok: false, exitCode: null, error: `the pipeline files no longer define ${key}: ${where} is not followed` };
  let job: V1Job;
  try {
    job = await call('read Job', () => k.batch.readNamespacedJob({ name, namespace: k.namespace }), { signal: ctx.signal });
  } catch (err) {
    if (err instanceof KubeError && err.status === 404) {
      ctx.log(`[runner] ${where} is gone`, 'stderr');
      return { ok: false, exitCode: null, error: `${where} is gone: it was deleted, or removed by its TTL, while no runner followed it; its result is unknown`, metadata: { kubernetes_job: `${k.namespace}/${name}`, reattached: true } };
    }
    return { ok: false, exitCode: null, error: `cannot read ${where} after the restart: ${describeError(err)}` };
  }
  if (finished(job)) {
    // Ended while no serve ran: its pods may be gone with their logs; the Job says how it ended.
    const pods = await call('list pods', () => k.core.listNamespacedPod({ namespace: k.namespace, labelSelector: attemptSelector(runId, asset.key, attempt) })).catch(() => undefined);
    if (pods && pods.items.length === 0) {
      const why = jobFailure(job);
      ctx.log(`[runner] ${where} ended while no runner followed it; its pods (and the rest of its log) are gone`, 'stderr');
      return { ok: why === undefined, exitCode: why === undefined ? 0 : null, ...(why ? { error: why } : {}), metadata: { kubernetes_job: `${k.namespace}/${name}`, reattached: true } };
    }
  }
  ctx.log(`[runner] re-attached to ${where} after a restart`, 'stderr');
  o.log.info(`re-attached to ${where}`, { run_id: runId, key, attempt });
  const from = lastSourceTime(o.store.logPath(runId, key));
  const follower = new JobFollower(k, job, { runId, asset, attempt, signal: ctx.signal, log: ctx.log }, { ...o, ...(from ? { resumeFrom: from } : {}), pendingTimeoutMs: stepSettings(o.env.kubernetes, asset).pendingTimeoutMs });
  const r = await follower.run();
  return { ...r, metadata: { ...(r.metadata ?? {}), reattached: true } };
}

/** Follows one Job of a reaped run (its runner died), writing its log and its result into the run. */
async function follow(k: KubeClients, job: V1Job, o: ReattachOptions, runId: string, key: string, attempt: number): Promise<{ follower: JobFollower; done: Promise<void> }> {
  const asset = o.defs.assets.get(key)!;
  const mask = await stepMasker(o, asset);
  const emit = (e: Omit<RunEvent, 'ts' | 'run_id'>) => o.store.emit({ ts: new Date().toISOString(), run_id: runId, ...e } as RunEvent);
  const log = (line: string, stream: 'stdout' | 'stderr' = 'stdout', _partial?: boolean, time?: string) => emit({ type: 'log', key, attempt, line: mask(line), stream, ...(time !== undefined ? { source_ts: time } : {}) });
  const from = lastSourceTime(o.store.logPath(runId, key));
  const follower = new JobFollower(k, job, { runId, asset, attempt, signal: new AbortController().signal, log }, { ...o, ...(from ? { resumeFrom: from } : {}), pendingTimeoutMs: stepSettings(o.env.kubernetes, asset).pendingTimeoutMs });
  log(`[runner] re-attached to Job ${k.namespace}/${job.metadata!.name} after a restart`, 'stderr');
  o.log.info(`re-attached to Job ${k.namespace}/${job.metadata!.name}`, { run_id: runId, key, attempt });
  const done = follower.run().then((r) => {
    if (r.handedOver) return;
    const data = { exit_code: r.exitCode ?? null, metadata: { ...(r.metadata ?? {}), reattached: true } };
    if (r.ok) emit({ type: 'step_succeeded', key, attempt, status: 'success', data });
    else emit({ type: 'step_failed', key, attempt, status: 'failure', message: mask(r.error ?? 'failed'), data });
    o.store.flush();
    o.log.info(`re-attached Job ${k.namespace}/${job.metadata!.name} ended: ${r.ok ? 'success' : 'failure'}`, { run_id: runId, key });
  });
  return { follower, done };
}

/** Masks what the step's secrets would show: the values the asset's config and its handler name. */
async function stepMasker(o: ReattachOptions, asset: AssetDef): Promise<(s: string) => string> {
  const masker = new Masker();
  const names = stepSecretNames(asset, o.env);
  if (names.size > 0) {
    const resolver = new SecretResolver({ secrets: o.defs.secrets, env: o.env, processEnv: o.processEnv, masker });
    await resolver.resolve([...names]).catch(() => undefined);
  }
  return (s) => masker.mask(s);
}
