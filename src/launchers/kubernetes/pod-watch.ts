/**
 * Watching the pods of one Job: list them (which gives a resourceVersion), then watch from
 * that version. A watch that ends is resumed from the last version seen; a `410 Gone`
 * (the version is too old: the server compacted its history) lists again and watches
 * from the new version. Every state of every pod reaches `onPod`, in order.
 */
import type { V1Pod, V1PodList } from '@kubernetes/client-node';
import type { KubeClients } from './client.js';
import { call, sleep } from './client.js';

/** What happened to a pod. */
export type PodEvent = 'ADDED' | 'MODIFIED' | 'DELETED';

/** Follows the pods that match a label selector until stopped. */
export class PodWatch {
  private rv?: string;
  private stopped = false;
  private controller?: AbortController;
  private readonly stop = new AbortController();
  /** How many times the watch was (re)opened, and how many 410s it met (for tests and logs). */
  readonly stats = { watches: 0, gone: 0, lists: 0 };

  constructor(
    private readonly k: KubeClients,
    private readonly labelSelector: string,
    private readonly onPod: (type: PodEvent, pod: V1Pod) => void,
  ) {}

  /** Starts listing and watching; resolves after the first list. */
  async start(): Promise<void> {
    await this.list();
    void this.loop();
  }

  /** Stops watching. */
  close(): void {
    this.stopped = true;
    this.stop.abort();
    this.controller?.abort();
  }

  /** Lists the pods now (every one reaches onPod as MODIFIED, or ADDED the first time). */
  async list(): Promise<V1Pod[]> {
    const res: V1PodList = await call('list pods', () => this.k.core.listNamespacedPod({ namespace: this.k.namespace, labelSelector: this.labelSelector }), { signal: this.stop.signal });
    this.stats.lists++;
    this.rv = res.metadata?.resourceVersion;
    for (const pod of res.items) this.onPod('MODIFIED', pod);
    return res.items;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const outcome = await this.watchOnce();
      if (this.stopped) return;
      if (outcome === 'gone') {
        this.stats.gone++;
        try {
          await this.list();
          failures = 0;
        } catch {
          failures++;
        }
      } else if (outcome === 'error') failures++;
      else failures = 0;
      if (failures > 0) await sleep(Math.min(250 * 2 ** failures, 5_000), this.stop.signal);
    }
  }

  /** One watch request, until the server ends it; how it ended. */
  private watchOnce(): Promise<'ended' | 'gone' | 'error'> {
    return new Promise((resolve) => {
      let result: 'ended' | 'gone' | 'error' = 'ended';
      this.stats.watches++;
      const path = `/api/v1/namespaces/${encodeURIComponent(this.k.namespace)}/pods`;
      const query: Record<string, string | boolean> = { labelSelector: this.labelSelector, allowWatchBookmarks: true };
      if (this.rv) query.resourceVersion = this.rv;
      this.k.watch
        .watch(
          path,
          query,
          (type: string, obj: unknown) => {
            if (type === 'ERROR') {
              const code = (obj as { code?: number }).code;
              result = code === 410 ? 'gone' : 'error';
              this.controller?.abort();
              return;
            }
            const pod = obj as V1Pod;
            const v = pod.metadata?.resourceVersion;
            if (v) this.rv = v;
            if (type === 'BOOKMARK') return;
            if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.onPod(type, pod);
          },
          (err: unknown) => {
            if (err && result === 'ended') result = (err as { statusCode?: number }).statusCode === 410 ? 'gone' : this.stopped ? 'ended' : 'error';
            resolve(result);
          },
        )
        .then(
          (c) => {
            this.controller = c;
            if (this.stopped) c.abort();
          },
          () => resolve('error'),
        );
    });
  }
}
