/**
 * Re-attaching after a restart. `runner serve` lists the Jobs it created in the
 * environment's namespace (by label). A Job still running whose run was running when the
 * previous serve died (the store reaped the run at start-up) is followed again: its pod's
 * log goes on into the step's log, and its end is recorded as the step's result. A Job
 * still running whose run is over (or unknown to this store) is reaped: deleted with
 * propagation Background, its pods waited for. Finished Jobs are left to their TTL; Jobs
 * of runs that another live runner owns are left alone.
 */
import { readFileSync } from 'node:fs';
import type { V1Job } from '@kubernetes/client-node';
import type { AssetDef, Definitions } from '../../definitions/model.js';
import type { ResolvedEnvironment } from '../../definitions/environment.js';
import type { RunEvent } from '../../execution/events.js';
import type { Store } from '../../storage/store.js';
import type { KubernetesSettingsDef } from '../../definitions/model.js';
import { secretsIn } from '../../definitions/interpolate.js';
import { getHandler } from '../../handlers/registry.js';
import { Masker } from '../../secrets/masker.js';
import { SecretResolver } from '../../secrets/resolver.js';
import { type KubeClients, call, connect, describeError } from './client.js';
import { deleteJob } from './cleanup.js';
import { JobFollower, type KubernetesLauncherOptions } from './launcher.js';
import { ASSET_KEY_ANNOTATION, LABELS, MANAGED_BY, selector } from './names.js';
import { stepSettings } from './settings.js';

/** What re-attaching needs. */
export interface ReattachOptions extends KubernetesLauncherOptions {
  store: Store;
  defs: Definitions;
  env: ResolvedEnvironment & { kubernetes: KubernetesSettingsDef };
  /** Runs the store reaped when this serve started: their Jobs are followed. */
  reaped: ReadonlySet<string>;
  log: { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void };
}

/** A re-attach in progress: what it found, and a way to let go (serve shutting down). */
export interface Reattachment {
  followed: string[];
  reaped: string[];
  /** Settles when every followed Job ended (or was let go). */
  done: Promise<void>;
  /** Stops following, leaving the Jobs running. */
  detach(): void;
}

const finished = (job: V1Job) => job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') ?? false;

/** Lists the environment's Jobs and follows or reaps each. */
export async function reattach(o: ReattachOptions): Promise<Reattachment> {
  const k = (o.connect ?? (() => connect(o.env.kubernetes, o.processEnv)))();
  const list = await call('list Jobs', () => k.batch.listNamespacedJob({ namespace: k.namespace, labelSelector: selector({ [LABELS.managedBy]: MANAGED_BY, [LABELS.env]: o.env.name }) }));
  const followers: JobFollower[] = [];
  const waits: Array<Promise<void>> = [];
  const out: Reattachment = { followed: [], reaped: [], done: Promise.resolve(), detach: () => followers.forEach((f) => f.detach()) };
  for (const job of list.items) {
    if (finished(job)) continue;
    const name = job.metadata!.name!;
    const runId = job.metadata?.labels?.[LABELS.runId] ?? '';
    const key = job.metadata?.annotations?.[ASSET_KEY_ANNOTATION] ?? '';
    const attempt = Number(job.metadata?.labels?.[LABELS.attempt] ?? '1');
    const run = runId ? o.store.getRun(runId) : undefined;
    const asset = o.defs.assets.get(key);
    if (run && (run.status === 'queued' || run.status === 'started')) continue; // a live runner owns it
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

/** Follows one Job of a reaped run, writing its log and its result into the run. */
async function follow(k: KubeClients, job: V1Job, o: ReattachOptions, runId: string, key: string, attempt: number): Promise<{ follower: JobFollower; done: Promise<void> }> {
  const asset = o.defs.assets.get(key)!;
  const mask = await stepMasker(o, asset);
  const emit = (e: Omit<RunEvent, 'ts' | 'run_id'>) => o.store.emit({ ts: new Date().toISOString(), run_id: runId, ...e } as RunEvent);
  const log = (line: string, stream: 'stdout' | 'stderr' = 'stdout') => emit({ type: 'log', key, attempt, line: mask(line), stream });
  const skipLines = recordedLines(o.store.logPath(runId, key), job.metadata!.name!);
  const follower = new JobFollower(k, job, { runId, asset, attempt, signal: new AbortController().signal, log }, { ...o, skipLines, pendingTimeoutMs: stepSettings(o.env.kubernetes, asset).pendingTimeoutMs });
  log(`[runner] re-attached to Job ${k.namespace}/${job.metadata!.name} after a restart`, 'stderr');
  o.log.info(`re-attached to Job ${k.namespace}/${job.metadata!.name}`, { run_id: runId, key, attempt });
  const done = follower.run().then((r) => {
    if (r.error?.startsWith('detached')) return;
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
  const names = secretsIn(asset.config);
  const handler = getHandler(asset.handler);
  for (const n of secretsIn(handler?.secretRefs?.(asset, o.env) ?? [])) names.add(n);
  if (names.size > 0) {
    const resolver = new SecretResolver({ secrets: o.defs.secrets, env: o.env, processEnv: o.processEnv, masker });
    await resolver.resolve([...names]).catch(() => undefined);
  }
  return (s) => masker.mask(s);
}

/**
 * How many lines of Job `name` the step log holds already: the lines after the launcher's
 * `[runner] Job <ns>/<name> started` note that are not the runner's own.
 */
export function recordedLines(file: string, name: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  const lines = text.split('\n');
  const start = lines.findLastIndex((l) => l.startsWith('[runner] Job ') && l.includes(`/${name} started`));
  if (start < 0) return 0;
  return lines.slice(start + 1).filter((l) => l !== '' && !l.startsWith('[runner] ')).length;
}
