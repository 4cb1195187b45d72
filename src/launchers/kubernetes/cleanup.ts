/**
 * Deleting a step's Job: propagation `Background` (the Job goes at once, the garbage
 * collector removes its pods and its Secret), then waiting until no pod of it is left, so
 * a canceled or timed-out step has really stopped when the runner says so.
 */
import type { KubeClients } from './client.js';
import { KubeError, call, sleep } from './client.js';

/** Deletes Job `name` and waits until the pods matching `podSelector` are gone. */
export async function deleteJob(k: KubeClients, name: string, o: { podSelector?: string; pollMs?: number; goneTimeoutMs?: number } = {}): Promise<void> {
  try {
    await call('delete Job', () => k.batch.deleteNamespacedJob({ name, namespace: k.namespace, propagationPolicy: 'Background' }));
  } catch (err) {
    if (!(err instanceof KubeError && err.status === 404)) throw err;
  }
  if (!o.podSelector) return;
  const until = Date.now() + (o.goneTimeoutMs ?? 120_000);
  for (;;) {
    const pods = await call('list pods', () => k.core.listNamespacedPod({ namespace: k.namespace, labelSelector: o.podSelector }));
    if (pods.items.length === 0) return;
    if (Date.now() >= until) throw new Error(`pod ${pods.items.map((p) => p.metadata?.name).join(', ')} still there after ${Math.round((o.goneTimeoutMs ?? 120_000) / 1000)}s`);
    await sleep(o.pollMs ?? 1_000);
  }
}
