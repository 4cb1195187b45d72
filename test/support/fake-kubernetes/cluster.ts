/**
 * The state of the fake cluster: Jobs, pods and Secrets with resourceVersions and an event
 * history (what watches replay), and a small Job controller and kubelet that follow what
 * Kubernetes documents: a Job that is not suspended gets a pod; the pod resolves its
 * `secretKeyRef`s and Secret volumes (a missing one is `CreateContainerConfigError`), runs
 * its script, writes timestamped log lines and ends Succeeded, Failed (exit code,
 * OOMKilled 137), evicted (Failed with a `DisruptionTarget` condition: the Job's
 * podFailurePolicy `Ignore` makes the controller start a new pod), or stays Pending.
 * `activeDeadlineSeconds` fails the Job with `DeadlineExceeded`. Deleting a Job with
 * propagation `Background` removes it at once and its pods and owned Secrets after a
 * grace period; `Orphan` leaves them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { V1Job, V1Pod, V1Secret } from '@kubernetes/client-node';

/** What one pod does. */
export interface PodScript {
  /** Lines it prints; an array entry that is an array prints its lines at the very same timestamp. */
  lines?: Array<string | string[]>;
  /** Wait between lines (ms, default 5). */
  intervalMs?: number;
  /** Exit code at the end (default 0). */
  exitCode?: number;
  /** Ends OOMKilled (exit 137). */
  oom?: boolean;
  /** Is evicted after its lines. */
  evict?: boolean;
  /** Runs (printing nothing more) until deleted. */
  forever?: boolean;
  /** Never scheduled: stays Pending with this PodScheduled message. */
  unschedulable?: string;
  /** The image cannot be pulled. */
  imagePullBackOff?: boolean;
}

/** What a pod script is chosen from: the pod's Job, its index in the Job, and what the kubelet resolved. */
export interface PodContext {
  job: V1Job;
  pod: V1Pod;
  index: number;
  /** Environment variables as the container sees them (secretKeyRefs resolved). */
  env: Record<string, string>;
  /** Mounted files by mount path + file name. */
  files: Record<string, string>;
}

/** A log line with its time. */
export interface LogLine {
  ms: number;
  ts: string;
  text: string;
}

/** One change, as a watch sends it. */
export interface WatchEvent {
  rv: number;
  kind: 'Pod' | 'Job' | 'Secret';
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: any;
}

/** RFC 3339 with nanoseconds, trailing zeros trimmed, as Go's RFC3339Nano writes it. */
export function rfc3339Nano(ms: number, nanos: number): string {
  const base = new Date(Math.floor(ms)).toISOString().slice(0, 19);
  const frac = String(Math.floor(ms % 1000) * 1_000_000 + nanos).padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? `.${frac}` : ''}Z`;
}

const clone = <T>(o: T): T => JSON.parse(JSON.stringify(o));

/** The fake cluster's objects and controllers. */
export class Cluster {
  rv = 1;
  /** Watches asking for a resourceVersion below this get `410 Gone`. */
  compactedBelow = 0;
  readonly history: WatchEvent[] = [];
  readonly jobs = new Map<string, V1Job>();
  readonly pods = new Map<string, V1Pod>();
  readonly secrets = new Map<string, V1Secret>();
  readonly logs = new Map<string, LogLine[]>();
  /** Every pod ever created, with what its kubelet resolved. */
  readonly started: PodContext[] = [];
  private readonly listeners = new Set<(e: WatchEvent) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nanos = 0;
  private lastMs = 0;

  constructor(private readonly o: ClusterOptions) {}

  /** Calls `fn` on every future event; returns the unsubscribe function. */
  subscribe(fn: (e: WatchEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private key = (ns: string, name: string) => `${ns}/${name}`;

  private record(kind: WatchEvent['kind'], type: WatchEvent['type'], obj: any): void {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    const e: WatchEvent = { rv: this.rv, kind, type, object: clone(obj) };
    this.history.push(e);
    for (const l of this.listeners) l(e);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Stops every timer (the server closes). */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Lets a `forever` pod print `lines`, one instant each, and go on running (a long step going on). */
  write(podKey: string, lines: string[]): void {
    if (!this.pods.has(podKey)) throw new Error(`no pod ${podKey}`);
    for (const l of lines) this.writeLines(podKey, [l]);
  }

  /** Lets a `forever` pod print `lines` and end with `exitCode` (a long step finishing). */
  release(podKey: string, lines: string[], exitCode = 0): void {
    const p = this.pods.get(podKey);
    if (!p) throw new Error(`no pod ${podKey}`);
    for (const l of lines) this.writeLines(podKey, [l]);
    const ns = p.metadata!.namespace!;
    const job = [...this.jobs.values()].find((j) => j.metadata!.uid === p.metadata!.ownerReferences?.[0]?.uid);
    const started = (p.status?.containerStatuses?.[0]?.state?.running?.startedAt as unknown as string) ?? new Date().toISOString();
    this.end(ns, job ?? ({ metadata: { name: '' } } as V1Job), podKey, { exitCode }, started, 0);
  }

  createJob(ns: string, job: V1Job): V1Job {
    const j = clone(job);
    j.metadata = { ...j.metadata, namespace: ns, uid: randomUUID(), creationTimestamp: new Date() as never, generation: 1 };
    j.status = {};
    this.jobs.set(this.key(ns, j.metadata.name!), j);
    this.record('Job', 'ADDED', j);
    if (!j.spec?.suspend) this.startJob(ns, j);
    return clone(j);
  }

  patchJob(ns: string, name: string, patch: any): V1Job | undefined {
    const j = this.jobs.get(this.key(ns, name));
    if (!j) return undefined;
    const wasSuspended = j.spec?.suspend === true;
    if (patch?.spec && 'suspend' in patch.spec) j.spec!.suspend = patch.spec.suspend;
    if (patch?.metadata?.labels) j.metadata!.labels = { ...j.metadata!.labels, ...patch.metadata.labels };
    this.record('Job', 'MODIFIED', j);
    if (wasSuspended && !j.spec?.suspend) this.startJob(ns, j);
    return clone(j);
  }

  createSecret(ns: string, s: V1Secret): V1Secret {
    const c = clone(s);
    c.metadata = { ...c.metadata, namespace: ns, uid: randomUUID() };
    // The API server keeps stringData as data (base64) and never returns stringData.
    const data: Record<string, string> = { ...(c.data ?? {}) };
    for (const [k, v] of Object.entries(c.stringData ?? {})) data[k] = Buffer.from(v).toString('base64');
    delete c.stringData;
    c.data = data;
    this.secrets.set(this.key(ns, c.metadata.name!), c);
    this.record('Secret', 'ADDED', c);
    return clone(c);
  }

  /** Deletes a Job; its dependents go per `propagation`. */
  deleteJob(ns: string, name: string, propagation: string): V1Job | undefined {
    const j = this.jobs.get(this.key(ns, name));
    if (!j) return undefined;
    this.jobs.delete(this.key(ns, name));
    this.record('Job', 'DELETED', j);
    if (propagation !== 'Orphan') {
      const uid = j.metadata!.uid;
      this.later(this.o.deleteGraceMs ?? 30, () => {
        for (const [k, p] of [...this.pods]) if (p.metadata?.ownerReferences?.some((r) => r.uid === uid)) this.deletePod(k);
        for (const [k, s] of [...this.secrets]) {
          if (s.metadata?.ownerReferences?.some((r) => r.uid === uid)) {
            this.secrets.delete(k);
            this.record('Secret', 'DELETED', s);
          }
        }
      });
    }
    return clone(j);
  }

  private deletePod(key: string): void {
    const p = this.pods.get(key);
    if (!p) return;
    (p as any).stopped = true;
    this.pods.delete(key);
    this.record('Pod', 'DELETED', p);
  }

  private startJob(ns: string, j: V1Job): void {
    const deadline = j.spec?.activeDeadlineSeconds;
    if (deadline !== undefined) {
      const uid = j.metadata!.uid;
      this.later(deadline * 1000, () => {
        const cur = this.jobs.get(this.key(ns, j.metadata!.name!));
        if (!cur || cur.metadata!.uid !== uid || cur.status?.conditions?.some((c) => c.status === 'True')) return;
        // As the Job controller does: the Job fails, its active pods are terminated (SIGTERM: 143), then removed.
        this.finishJob(cur, 'Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline');
        for (const [k, p] of [...this.pods]) {
          if (!p.metadata?.ownerReferences?.some((r) => r.uid === uid) || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
          this.update(k, (pod) => (pod.status = { ...pod.status, phase: 'Failed', containerStatuses: [{ name: 'step', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 143, reason: 'Error' } } }] as never }));
          (p as any).stopped = true;
          this.later(this.o.deleteGraceMs ?? 30, () => this.deletePod(k));
        }
      });
    }
    this.createPod(ns, j, 0);
  }

  private finishJob(j: V1Job, type: 'Complete' | 'Failed', reason?: string, message?: string): void {
    j.status = { ...j.status, conditions: [{ type, status: 'True', ...(reason ? { reason } : {}), ...(message ? { message } : {}) } as never], ...(type === 'Complete' ? { succeeded: 1 } : { failed: 1 }) };
    this.record('Job', 'MODIFIED', j);
  }

  private createPod(ns: string, j: V1Job, index: number): void {
    const tpl = clone(j.spec!.template);
    const name = `${j.metadata!.name}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: ns,
        uid: randomUUID(),
        annotations: { ...(tpl.metadata?.annotations ?? {}) },
        labels: { ...(tpl.metadata?.labels ?? {}), 'batch.kubernetes.io/job-name': j.metadata!.name!, 'job-name': j.metadata!.name!, 'batch.kubernetes.io/controller-uid': j.metadata!.uid! },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: j.metadata!.name!, uid: j.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: tpl.spec!,
      status: { phase: 'Pending', conditions: [] },
    };
    const key = this.key(ns, name);
    this.pods.set(key, pod);
    this.logs.set(key, []);
    this.record('Pod', 'ADDED', pod);
    const ctx = this.kubelet(ns, j, pod, index);
    this.started.push(ctx);
    const script = ctx.error ? undefined : this.o.script(ctx);
    this.later(5, () => this.runPod(ns, j, key, ctx, script, index));
  }

  /** What the kubelet resolves before the container starts. */
  private kubelet(ns: string, job: V1Job, pod: V1Pod, index: number): PodContext & { error?: string } {
    const c = pod.spec!.containers[0]!;
    const env: Record<string, string> = {};
    const files: Record<string, string> = {};
    let error: string | undefined;
    const secretValue = (name: string, k: string) => {
      const s = this.secrets.get(this.key(ns, name));
      const v = s?.data?.[k];
      return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
    };
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.secretKeyRef) {
        const v = secretValue(e.valueFrom.secretKeyRef.name!, e.valueFrom.secretKeyRef.key);
        if (v === undefined) error = `secret "${e.valueFrom.secretKeyRef.name}" not found`;
        else env[e.name] = v;
      }
    }
    for (const m of c.volumeMounts ?? []) {
      const vol = pod.spec!.volumes?.find((v) => v.name === m.name);
      if (!vol?.secret) continue;
      for (const item of vol.secret.items ?? []) {
        const v = secretValue(vol.secret.secretName!, item.key);
        if (v === undefined) error = `secret "${vol.secret.secretName}" not found`;
        else files[`${m.mountPath}/${item.path}`] = v;
      }
    }
    return { job, pod, index, env, files, ...(error ? { error } : {}) };
  }

  private update(key: string, fn: (p: V1Pod) => void): V1Pod | undefined {
    const p = this.pods.get(key);
    if (!p || (p as any).stopped) return undefined;
    fn(p);
    this.record('Pod', 'MODIFIED', p);
    return p;
  }

  /** Appends log lines at one instant (they share a timestamp when there are several). */
  private writeLines(key: string, texts: string[]): void {
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.nanos = 0;
    }
    const ts = rfc3339Nano(now, (this.nanos += 1000));
    const buf = this.logs.get(key)!;
    for (const text of texts) buf.push({ ms: now, ts, text });
    this.o.onLog?.(key);
  }

  private runPod(ns: string, j: V1Job, key: string, ctx: PodContext & { error?: string }, s: PodScript | undefined, index: number): void {
    const cs = (state: object, extra: object = {}) => [{ name: 'step', image: ctx.pod.spec!.containers[0]!.image!, imageID: '', ready: false, restartCount: 0, state, ...extra }];
    if (ctx.error) {
      this.update(key, (p) => (p.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: cs({ waiting: { reason: 'CreateContainerConfigError', message: ctx.error } }) as never }));
      return;
    }
    if (s!.unschedulable !== undefined) {
      this.update(key, (p) => (p.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: s!.unschedulable }] }));
      return;
    }
    this.update(key, (p) => {
      p.spec!.nodeName = 'node-1';
      p.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: cs({ waiting: { reason: 'ContainerCreating' } }) as never };
    });
    if (s!.imagePullBackOff) {
      this.later(10, () => this.update(key, (p) => (p.status!.containerStatuses = cs({ waiting: { reason: 'ErrImagePull', message: 'rpc error: pull access denied' } }) as never)));
      this.later(20, () => this.update(key, (p) => (p.status!.containerStatuses = cs({ waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${ctx.pod.spec!.containers[0]!.image}"` } }) as never)));
      return;
    }
    const started = new Date().toISOString();
    this.later(10, () => {
      if (!this.update(key, (p) => (p.status = { ...p.status, phase: 'Running', containerStatuses: cs({ running: { startedAt: started } }, { ready: true }) as never }))) return;
      const lines = s!.lines ?? [];
      let i = 0;
      const next = () => {
        const p = this.pods.get(key);
        if (!p || (p as any).stopped) return;
        if (i < lines.length) {
          const l = lines[i++]!;
          this.writeLines(key, Array.isArray(l) ? l : [l]);
          this.later(s!.intervalMs ?? 5, next);
          return;
        }
        if (s!.forever) return;
        this.end(ns, j, key, s!, started, index);
      };
      next();
    });
  }

  private end(ns: string, j: V1Job, key: string, s: PodScript, startedAt: string, index: number): void {
    const finishedAt = new Date().toISOString();
    const term = (exitCode: number, reason: string) => [{ name: 'step', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason, startedAt, finishedAt } } }];
    const job = this.jobs.get(this.key(ns, j.metadata!.name!));
    if (s.evict) {
      this.update(key, (p) => {
        p.status = { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: 'The node was low on resource: memory.' }], containerStatuses: term(137, 'Error') as never };
      });
      // podFailurePolicy Ignore on DisruptionTarget: the failure does not count, a new pod starts.
      const ignored = job?.spec?.podFailurePolicy?.rules?.some((r) => r.action === 'Ignore' && r.onPodConditions?.some((c) => c.type === 'DisruptionTarget'));
      if (job && ignored) this.later(10, () => this.jobs.has(this.key(ns, j.metadata!.name!)) && this.createPod(ns, job, index + 1));
      else if (job) this.finishJob(job, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
      return;
    }
    const code = s.oom ? 137 : (s.exitCode ?? 0);
    this.update(key, (p) => (p.status = { ...p.status, phase: code === 0 ? 'Succeeded' : 'Failed', containerStatuses: term(code, s.oom ? 'OOMKilled' : code === 0 ? 'Completed' : 'Error') as never }));
    if (job) {
      if (code === 0) this.finishJob(job, 'Complete');
      else this.finishJob(job, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    }
  }
}

/** How the fake cluster behaves. */
export interface ClusterOptions {
  /** What each pod does. */
  script: (ctx: PodContext) => PodScript;
  /** Wait before the dependents of a deleted Job go (ms, default 30). */
  deleteGraceMs?: number;
  /** Called when a pod wrote lines (the log streams push them). */
  onLog?: (podKey: string) => void;
}
