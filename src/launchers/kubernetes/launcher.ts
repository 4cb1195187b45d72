/**
 * The Kubernetes launcher: one Job per step attempt. It creates the Job suspended, then
 * the step's Secret owned by the Job, then resumes the Job; watches the Job's pods; streams
 * the pod's log into the step log; and maps the pod's end to the step's result. A pod that
 * is evicted or preempted is replaced by the Job (its `podFailurePolicy` ignores
 * disruptions) and followed in turn. A step the runner ends (cancel, timeout, a pod stuck
 * Pending or on an image pull) deletes its Job with propagation `Background` and waits
 * until its pods are gone. A serve that stops (the abort reason is a `ServeHandover`) lets
 * go of the Job instead: it and its Secret keep running, the step is handed over.
 */
import { PatchStrategy, setHeaderOptions, type V1Job, type V1Pod } from '@kubernetes/client-node';
import type { ResolvedEnvironment } from '../../definitions/environment.js';
import type { KubernetesSettingsDef } from '../../definitions/model.js';
import type { CommandSpec, LaunchContext, LaunchResult, Launcher } from '../spec.js';
import { buildStepObjects } from './manifest.js';
import { type KubeClients, KubeError, call, connect, describeError } from './client.js';
import { LABELS, attemptSelector } from './names.js';
import { PodWatch, type PodEvent } from './pod-watch.js';
import { PodLogFollower, type ResumePoint } from './pod-logs.js';
import { jobFailure, podState } from './pod-state.js';
import { stepSettings } from './settings.js';
import { deleteJob } from './cleanup.js';
import { formatDuration } from '../../util/duration.js';
import { isHandover } from '../../execution/handover.js';

/** Runs steps as Kubernetes Jobs in one environment's cluster. */
export class KubernetesLauncher implements Launcher {
  readonly name = 'kubernetes';
  private clients?: KubeClients;

  constructor(
    private readonly env: ResolvedEnvironment & { kubernetes: KubernetesSettingsDef },
    private readonly o: KubernetesLauncherOptions = {},
  ) {}

  /** The cluster connection (loaded once, on first use). */
  connection(): KubeClients {
    this.clients ??= (this.o.connect ?? (() => connect(this.env.kubernetes, this.o.processEnv)))();
    return this.clients;
  }

  async run(spec: CommandSpec, ctx: LaunchContext): Promise<LaunchResult> {
    let k: KubeClients;
    try {
      k = this.connection();
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    try {
      const job = await this.create(k, spec, ctx);
      return await new JobFollower(k, job, ctx, { ...this.o, pendingTimeoutMs: stepSettings(this.env.kubernetes, ctx.asset, spec.image).pendingTimeoutMs }).run();
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Creates the suspended Job, its Secret (owned by the Job), and resumes the Job. */
  private async create(k: KubeClients, spec: CommandSpec, ctx: LaunchContext): Promise<V1Job> {
    const objs = buildStepObjects(spec, ctx, { settings: this.env.kubernetes, envName: this.env.name, namespace: k.namespace, suspend: true });
    const ns = k.namespace;
    const signal = ctx.signal;
    let job: V1Job;
    try {
      job = await call('create Job', () => k.batch.createNamespacedJob({ namespace: ns, body: objs.job }), { signal });
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 409)) throw err;
      // The same attempt's Job exists (a runner that died while creating it): adopt it if it is ours.
      job = await call('read Job', () => k.batch.readNamespacedJob({ name: objs.name, namespace: ns }), { signal });
      if (job.metadata?.labels?.[LABELS.runId] !== ctx.runId) throw new Error(`Job ${ns}/${objs.name} exists and belongs to another run`);
    }
    // From here on the Job exists: whatever fails deletes it again, so nothing is left suspended.
    try {
      const uid = job.metadata?.uid;
      // No blockOwnerDeletion: it would need `update jobs/finalizers` where OwnerReferencesPermissionEnforcement is on, and Background deletion does not use it.
      objs.secret.metadata!.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: objs.name, uid: uid! }];
      try {
        await call('create Secret', () => k.core.createNamespacedSecret({ namespace: ns, body: objs.secret }), { signal });
      } catch (err) {
        if (!(err instanceof KubeError && err.status === 409)) throw err;
      }
      if (job.spec?.suspend) {
        job = await call('resume Job', () => k.batch.patchNamespacedJob({ name: objs.name, namespace: ns, body: { spec: { suspend: false } } }, mergePatch()), { signal });
      }
    } catch (err) {
      await deleteJob(k, objs.name).catch(() => undefined);
      throw err;
    }
    ctx.log(`[runner] Job ${ns}/${objs.name} started (image ${objs.job.spec!.template.spec!.containers[0]!.image})`, 'stderr');
    return job;
  }
}

/** Options of the launcher (tests shorten the waits). */
export interface KubernetesLauncherOptions {
  processEnv?: Record<string, string | undefined>;
  /** Replaces loading the kubeconfig. */
  connect?: () => KubeClients;
  /** The first wait before a dropped log stream is reopened (default 1s). */
  reconnectMs?: number;
  /** How often deletion looks whether the pods are gone (default 1s). */
  pollMs?: number;
  /** How long deletion waits for the pods to go (default 2m). */
  goneTimeoutMs?: number;
  /** Re-attaching: the last line the step log recorded (lines up to it are not passed on again). */
  resumeFrom?: ResumePoint;
}

/** Follows one Job's pods until the step ends (also used to re-attach after a restart). */
export class JobFollower {
  private readonly name: string;
  private readonly logs = new Map<string, PodLogFollower>();
  private readonly ended = new Set<string>();
  private readonly watch: PodWatch;
  private pendingSince?: number;
  private unschedulable?: string;
  private pendingTimer?: NodeJS.Timeout;
  private lastPod?: V1Pod;
  private disruptions = 0;
  /** The final log read of a replaced pod; the next pod's lines follow it. */
  private previous: Promise<void> = Promise.resolve();
  private finished = false;
  /** The runner is ending the step (deleting the Job): pod events no longer decide it. */
  private stopping = false;
  private resolve!: (r: LaunchResult) => void;

  constructor(
    private readonly k: KubeClients,
    job: V1Job,
    private readonly ctx: LaunchContext,
    private readonly o: KubernetesLauncherOptions & { pendingTimeoutMs: number },
  ) {
    this.name = job.metadata!.name!;
    this.watch = new PodWatch(k, this.watchSelector(), (type, pod) => this.onPod(type, pod));
  }

  /** Follows the Job to its end. */
  async run(): Promise<LaunchResult> {
    const done = new Promise<LaunchResult>((r) => (this.resolve = r));
    // Serve stopping lets go of the Job (the next serve re-attaches); any other abort ends it.
    const onAbort = () => (isHandover(this.ctx.signal.reason) ? this.detach() : void this.stop('canceled'));
    if (this.ctx.signal.aborted) onAbort();
    else this.ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.watch.start();
    } catch (err) {
      void this.stop(`cannot watch the pods of Job ${this.name}: ${describeError(err)}`);
    }
    const r = await done;
    this.ctx.signal.removeEventListener('abort', onAbort);
    return r;
  }

  private meta(): Record<string, unknown> {
    const pod = this.lastPod;
    return {
      kubernetes_job: `${this.k.namespace}/${this.name}`,
      ...(pod?.metadata?.name ? { pod: pod.metadata.name } : {}),
      ...(pod?.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
      ...(this.disruptions > 0 ? { disruptions: this.disruptions } : {}),
    };
  }

  private finish(r: LaunchResult): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.pendingTimer);
    this.watch.close();
    for (const f of this.logs.values()) f.stop();
    this.resolve({ ...r, metadata: { ...this.meta(), ...(r.metadata ?? {}) } });
  }

  private follower(pod: string): PodLogFollower {
    let f = this.logs.get(pod);
    if (!f) {
      f = new PodLogFollower(this.k, pod, (line, time) => {
        this.ctx.log(line, 'stdout', false, time);
        this.ctx.onLine?.(line);
      }, this.o.reconnectMs, this.o.resumeFrom);
      this.logs.set(pod, f);
    }
    return f;
  }

  private onPod(type: PodEvent, pod: V1Pod): void {
    if (this.finished || this.stopping) return;
    const name = pod.metadata?.name;
    if (!name) return;
    this.lastPod = pod;
    if (type === 'DELETED') {
      if (!this.ended.has(name)) void this.podGone(name);
      return;
    }
    const st = podState(pod);
    switch (st.kind) {
      case 'pending':
        this.pendingSince ??= Date.now();
        this.unschedulable = st.unschedulable;
        this.armPendingTimer();
        return;
      case 'running':
        this.pendingSince = undefined;
        clearTimeout(this.pendingTimer);
        void this.previous.then(() => this.follower(name).start());
        return;
      case 'stuck':
        void this.stop(st.error);
        return;
      default:
        if (this.ended.has(name)) return;
        this.ended.add(name);
        if (st.kind === 'disrupted') this.disruptions++;
        void this.podEnded(name, st);
    }
  }

  private async podEnded(name: string, st: ReturnType<typeof podState>): Promise<void> {
    const done = this.previous.then(() => this.follower(name).finish());
    this.previous = done;
    await done;
    if (this.stopping) return;
    if (st.kind === 'succeeded') this.finish({ ok: true, exitCode: 0 });
    else if (st.kind === 'failed') {
      // A pod the Job controller killed at the deadline ends as a plain exit: the Job says why.
      const why = await this.jobDeadline();
      this.finish({ ok: false, exitCode: st.exitCode, error: why ?? st.error });
    }
    else if (st.kind === 'disrupted') {
      this.ctx.log(`[runner] pod ${name} was disrupted (${st.reason}); the Job starts a new pod`, 'stderr');
    }
  }

  /** The Job's DeadlineExceeded message, if that is how it failed. */
  private async jobDeadline(): Promise<string | undefined> {
    try {
      const job = await call('read Job', () => this.k.batch.readNamespacedJob({ name: this.name, namespace: this.k.namespace }), { tries: 2 });
      const why = jobFailure(job);
      return why?.startsWith('DeadlineExceeded') ? why : undefined;
    } catch {
      return undefined;
    }
  }

  /** A pod went away before it ended: the Job failed (deadline) or replaces it. */
  private async podGone(name: string): Promise<void> {
    this.ended.add(name);
    this.follower(name).stop();
    try {
      const job = await call('read Job', () => this.k.batch.readNamespacedJob({ name: this.name, namespace: this.k.namespace }), { signal: this.ctx.signal });
      const why = jobFailure(job);
      if (why && !this.stopping) this.finish({ ok: false, exitCode: null, error: why });
    } catch (err) {
      if (err instanceof KubeError && err.status === 404 && !this.stopping) this.finish({ ok: false, exitCode: null, error: `Job ${this.k.namespace}/${this.name} was deleted by someone else` });
    }
  }

  private armPendingTimer(): void {
    if (this.pendingTimer || this.pendingSince === undefined) return;
    const left = Math.max(0, this.pendingSince + this.o.pendingTimeoutMs - Date.now());
    this.pendingTimer = setTimeout(() => {
      this.pendingTimer = undefined;
      if (this.pendingSince === undefined || this.finished) return;
      const why = this.unschedulable ?? 'waiting for a node';
      void this.stop(`the pod stayed Pending for ${formatDuration(this.o.pendingTimeoutMs)} (kubernetes.pending_timeout): ${why}`);
    }, left);
  }

  /** Ends the step the runner's way: delete the Job, wait until its pods are gone. */
  private async stop(error: string): Promise<void> {
    if (this.finished || this.stopping) return;
    this.stopping = true;
    clearTimeout(this.pendingTimer);
    this.watch.close();
    for (const f of this.logs.values()) f.stop();
    let cleanup = '';
    try {
      await deleteJob(this.k, this.name, { pollMs: this.o.pollMs, goneTimeoutMs: this.o.goneTimeoutMs, podSelector: this.watchSelector() });
    } catch (err) {
      cleanup = `; deleting Job ${this.k.namespace}/${this.name} failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.finish({ ok: false, exitCode: null, error: error + cleanup });
  }

  /** Stops following without touching the Job or its Secret (serve shuts down: the next serve re-attaches). */
  detach(): void {
    if (this.finished || this.stopping) return;
    this.ctx.log(`[runner] runner serve is stopping: Job ${this.k.namespace}/${this.name} keeps running, the next serve follows it`, 'stderr');
    this.finish({ ok: false, exitCode: null, handedOver: true });
  }

  private watchSelector(): string {
    return attemptSelector(this.ctx.runId, this.ctx.asset.key, this.ctx.attempt);
  }
}

/** Request options that make a patch a JSON merge patch. */
function mergePatch() {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
}
