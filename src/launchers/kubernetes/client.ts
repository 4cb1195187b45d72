/**
 * The connection to the cluster through @kubernetes/client-node: the kubeconfig (the
 * in-cluster service account, else `KUBECONFIG` or ~/.kube/config, with
 * `kubernetes.context` choosing a context), the namespace, and calls that survive what the
 * API server answers under load: `429` waits its `Retry-After`, `5xx` and dropped
 * connections are retried with backoff; anything else is an error with a plain message.
 */
import { BatchV1Api, CoreV1Api, KubeConfig, Log, Watch, ApiException } from '@kubernetes/client-node';
import type { KubernetesSettingsDef } from '../../definitions/model.js';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The API clients of one environment. */
export interface KubeClients {
  config: KubeConfig;
  batch: BatchV1Api;
  core: CoreV1Api;
  watch: Watch;
  log: Log;
  /** The namespace the Jobs run in. */
  namespace: string;
}

/** Loads the kubeconfig the settings ask for; throws a plain message when there is none. */
export function connect(settings: KubernetesSettingsDef, processEnv: Record<string, string | undefined> = process.env): KubeClients {
  const config = new KubeConfig();
  const inCluster = !settings.context && !processEnv.KUBECONFIG && processEnv.KUBERNETES_SERVICE_HOST !== undefined;
  const home = path.join(os.homedir(), '.kube', 'config');
  try {
    if (inCluster) config.loadFromCluster();
    else if (processEnv.KUBECONFIG) {
      // KUBECONFIG may list several files; the first one that exists is used.
      const file = processEnv.KUBECONFIG.split(path.delimiter).find((f) => f !== '' && existsSync(f));
      if (!file) throw new Error(`no file of KUBECONFIG exists (${processEnv.KUBECONFIG})`);
      config.loadFromFile(file);
    } else if (existsSync(home)) config.loadFromFile(home);
    else throw new Error('not in a cluster, KUBECONFIG is not set and ~/.kube/config does not exist');
  } catch (err) {
    throw new Error(`cannot load the Kubernetes configuration${processEnv.KUBECONFIG ? ` from KUBECONFIG` : ''}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (settings.context) {
    if (!config.getContextObject(settings.context)) {
      const known = config.getContexts().map((c) => c.name);
      throw new Error(`kubernetes.context \`${settings.context}\` is not in the kubeconfig (contexts: ${known.join(', ') || 'none'})`);
    }
    config.setCurrentContext(settings.context);
  }
  if (!config.getCurrentCluster()) throw new Error('no Kubernetes cluster configured: run in a cluster, set KUBECONFIG, or set kubernetes.context');
  const namespace = settings.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
  return { config, batch: config.makeApiClient(BatchV1Api), core: config.makeApiClient(CoreV1Api), watch: new Watch(config), log: new Log(config), namespace };
}

/** The HTTP status of an API error, if it is one. */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { statusCode?: unknown; code?: unknown } | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** A short description of an API error (the server's message, never a request body). */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as { message?: unknown } | string | undefined;
    let message: string | undefined;
    if (typeof body === 'object' && body && typeof body.message === 'string') message = body.message;
    else if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === 'string') message = parsed.message;
      } catch {
        message = body.slice(0, 200);
      }
    }
    return `HTTP ${err.code}${message ? `: ${message}` : ''}`;
  }
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

function header(err: unknown, name: string): string | undefined {
  if (!(err instanceof ApiException) || !err.headers) return undefined;
  for (const [k, v] of Object.entries(err.headers)) if (k.toLowerCase() === name) return String(v);
  return undefined;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** How long to wait before retrying `err`, or undefined when it must not be retried. */
export function retryDelay(err: unknown, attempt: number): number | undefined {
  const status = statusOf(err);
  if (status === 429) {
    const after = Number(header(err, 'retry-after'));
    return Number.isFinite(after) && after >= 0 ? Math.min(after, 30) * 1000 : 1000;
  }
  const network = status === undefined && /ECONNRESET|ECONNREFUSED|socket hang up|EPIPE|ETIMEDOUT/.test(String((err as Error)?.message ?? err));
  if ((status !== undefined && status >= 500) || network) return Math.min(250 * 2 ** attempt, 8_000);
  return undefined;
}

/** Calls `fn`, retrying 429, 5xx and dropped connections up to `tries` times. */
export async function call<T>(what: string, fn: () => Promise<T>, o: { signal?: AbortSignal; tries?: number } = {}): Promise<T> {
  const tries = o.tries ?? 8;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const delay = retryDelay(err, attempt);
      if (delay === undefined || attempt + 1 >= tries || o.signal?.aborted) throw new KubeError(what, err);
      await sleep(delay, o.signal);
    }
  }
}

/** An API call that failed for good. */
export class KubeError extends Error {
  readonly status?: number;
  constructor(what: string, cause: unknown) {
    super(`${what}: ${describeError(cause)}`);
    this.status = statusOf(cause);
  }
}

export { sleep };
