/**
 * A Kubernetes API double on 127.0.0.1 (port 0) for the paths, verbs and query parameters
 * @kubernetes/client-node 1.4.0 sends (read from its generated BatchV1Api/CoreV1Api, its
 * Watch and Log classes), answering as the API server documents:
 *   POST   /apis/batch/v1/namespaces/{ns}/jobs            201 Job, 409 AlreadyExists
 *   GET    /apis/batch/v1/namespaces/{ns}/jobs[/{name}]   JobList (labelSelector) or Job, 404 NotFound
 *   PATCH  /apis/batch/v1/namespaces/{ns}/jobs/{name}     application/merge-patch+json (suspend)
 *   DELETE /apis/batch/v1/namespaces/{ns}/jobs/{name}     ?propagationPolicy=Background|Foreground|Orphan
 *   POST   /api/v1/namespaces/{ns}/secrets                201 Secret (stringData stored as data), 409
 *   GET    /api/v1/namespaces/{ns}/pods?labelSelector=    PodList with metadata.resourceVersion
 *   GET    /api/v1/namespaces/{ns}/pods?watch=true&resourceVersion=  newline-delimited watch events;
 *          a resourceVersion older than the compacted history gets an ERROR event with a 410 Status
 *   POST   /apis/authorization.k8s.io/v1/selfsubjectaccessreviews   status.allowed (see `deny`)
 *   GET    /api/v1/namespaces/{ns}/pods/{name}/log?follow=&timestamps=&sinceTime=   400 while the
 *          container waits to start, 404 for a pod that is gone
 * Errors are `Status` objects. It misbehaves on purpose when asked: follow streams and
 * watches dropped after a while or mid-line, injected `429` (with Retry-After) and `5xx`
 * answers. Every request is recorded with its body, so tests can look for secrets in it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, type ClusterOptions, type WatchEvent } from './cluster.js';

export { Cluster, rfc3339Nano, type PodScript, type PodContext } from './cluster.js';

/** One request the double received. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body: string;
}

/** Options of the double. */
export interface FakeKubernetesOptions extends Omit<ClusterOptions, 'onLog'> {
  /** Close every log follow stream this long after it opened (ms). */
  dropFollowAfterMs?: number;
  /** Drop a follow stream in the middle of a line after this many lines. */
  dropFollowAfterLines?: number;
  /** Close every watch this long after it opened (ms). */
  dropWatchAfterMs?: number;
  /** Permissions SelfSubjectAccessReview denies, as `verb resource[/subresource]` (default: all allowed). */
  deny?: string[];
  /** The bearer token the kubeconfig carries (default `fake-token`). */
  token?: string;
}

/** A running double. */
export interface FakeKubernetes {
  url: string;
  cluster: Cluster;
  requests: RecordedRequest[];
  /** Writes a kubeconfig for the double into `dir` (context `fake`, namespace `ns`); returns its path. */
  kubeconfig(dir: string, ns?: string): string;
  /** The next `times` requests matching `method` and `path` get `status` (429 with `retryAfter` seconds). */
  fail(method: string, path: RegExp, status: number, o?: { times?: number; retryAfter?: number }): void;
  /** Forgets the event history: watches resuming from an older resourceVersion get 410 Gone. */
  compact(): void;
  /** Ends every open watch now. */
  dropWatches(): void;
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

function matches(labels: Record<string, string> | undefined, sel: string | undefined): boolean {
  if (!sel) return true;
  return sel.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels?.[k!] === v;
  });
}

/** Starts the double. */
export async function startFakeKubernetes(o: FakeKubernetesOptions): Promise<FakeKubernetes> {
  const requests: RecordedRequest[] = [];
  const faults: Array<{ method: string; path: RegExp; status: number; times: number; retryAfter?: number }> = [];
  const logWaiters = new Map<string, Set<() => void>>();
  const watches = new Set<http.ServerResponse>();
  const cluster = new Cluster({ ...o, onLog: (key) => logWaiters.get(key)?.forEach((f) => f()) });
  const token = o.token ?? 'fake-token';

  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const query = Object.fromEntries(url.searchParams);
      requests.push({ method: req.method!, path: url.pathname, query, contentType: req.headers['content-type'], body });
      const send = (code: number, obj: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(code, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(obj));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
      const fault = faults.find((f) => f.times > 0 && f.method === req.method && f.path.test(url.pathname));
      if (fault) {
        fault.times--;
        return send(fault.status, status(fault.status, fault.status === 429 ? 'TooManyRequests' : 'InternalError', fault.status === 429 ? 'the server has received too many requests' : 'etcdserver: request timed out'), fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {});
      }
      try {
        route(req.method!, url.pathname, query, body, req, res, send);
      } catch (err) {
        send(400, status(400, 'BadRequest', err instanceof Error ? err.message : String(err)));
      }
    });
  });

  function route(method: string, p: string, q: Record<string, string>, body: string, req: http.IncomingMessage, res: http.ServerResponse, send: (c: number, o: unknown, h?: Record<string, string>) => void): void {
    let m: RegExpExecArray | null;
    if ((m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/.exec(p))) {
      const [, ns, name] = m as unknown as [string, string, string | undefined];
      if (method === 'POST' && !name) {
        const job = JSON.parse(body);
        if (cluster.jobs.has(`${ns}/${job.metadata?.name}`)) return send(409, status(409, 'AlreadyExists', `jobs.batch "${job.metadata.name}" already exists`));
        return send(201, cluster.createJob(ns, job));
      }
      if (method === 'GET' && !name) return send(200, { kind: 'JobList', apiVersion: 'batch/v1', metadata: { resourceVersion: String(cluster.rv) }, items: [...cluster.jobs.values()].filter((j) => j.metadata!.namespace === ns && matches(j.metadata!.labels, q.labelSelector)) });
      const notFound = () => send(404, status(404, 'NotFound', `jobs.batch "${name}" not found`));
      if (method === 'GET') return cluster.jobs.has(`${ns}/${name}`) ? send(200, cluster.jobs.get(`${ns}/${name}`)) : notFound();
      if (method === 'PATCH') {
        if (req.headers['content-type'] !== 'application/merge-patch+json') return send(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`));
        const j = cluster.patchJob(ns, name!, JSON.parse(body));
        return j ? send(200, j) : notFound();
      }
      if (method === 'DELETE') {
        const opts = body ? JSON.parse(body) : {};
        const j = cluster.deleteJob(ns, name!, q.propagationPolicy ?? opts.propagationPolicy ?? 'Orphan');
        return j ? send(200, j) : notFound();
      }
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(p))) {
      const [, ns, name] = m as unknown as [string, string, string | undefined];
      if (method === 'POST' && !name) {
        const s = JSON.parse(body);
        if (cluster.secrets.has(`${ns}/${s.metadata?.name}`)) return send(409, status(409, 'AlreadyExists', `secrets "${s.metadata.name}" already exists`));
        return send(201, cluster.createSecret(ns, s));
      }
      if (method === 'GET' && name) return cluster.secrets.has(`${ns}/${name}`) ? send(200, cluster.secrets.get(`${ns}/${name}`)) : send(404, status(404, 'NotFound', `secrets "${name}" not found`));
    }
    if (p === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews' && method === 'POST') {
      const review = JSON.parse(body);
      const a = review.spec?.resourceAttributes ?? {};
      const what = `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}`;
      return send(201, { ...review, status: { allowed: !(o.deny ?? []).includes(what) } });
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(p)) && method === 'GET') {
      const ns = m[1]!;
      if (q.watch === 'true') return watch(ns, q, res);
      return send(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(cluster.rv) }, items: [...cluster.pods.values()].filter((x) => x.metadata!.namespace === ns && matches(x.metadata!.labels, q.labelSelector)) });
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(p)) && method === 'GET') return podLog(`${m[1]}/${m[2]}`, q, res, send);
    send(404, status(404, 'NotFound', `the server could not find the requested resource (${method} ${p})`));
  }

  function watch(ns: string, q: Record<string, string>, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const since = q.resourceVersion !== undefined && q.resourceVersion !== '' ? Number(q.resourceVersion) : undefined;
    if (since !== undefined && since < cluster.compactedBelow) {
      res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${since} (${cluster.compactedBelow})`) }) + '\n');
      return;
    }
    const want = (e: WatchEvent) => e.kind === 'Pod' && e.object.metadata.namespace === ns && matches(e.object.metadata.labels, q.labelSelector);
    const write = (e: WatchEvent) => res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
    if (since === undefined) {
      for (const pod of cluster.pods.values()) if (pod.metadata!.namespace === ns && matches(pod.metadata!.labels, q.labelSelector)) res.write(JSON.stringify({ type: 'ADDED', object: pod }) + '\n');
    } else for (const e of cluster.history) if (e.rv > since && want(e)) write(e);
    const off = cluster.subscribe((e) => want(e) && write(e));
    watches.add(res);
    const timer = o.dropWatchAfterMs !== undefined ? setTimeout(() => res.end(), o.dropWatchAfterMs) : undefined;
    res.on('close', () => {
      off();
      clearTimeout(timer);
      watches.delete(res);
    });
  }

  function podLog(key: string, q: Record<string, string>, res: http.ServerResponse, send: (c: number, o: unknown) => void): void {
    const pod = cluster.pods.get(key);
    if (!pod) return send(404, status(404, 'NotFound', `pods "${key.split('/')[1]}" not found`));
    const cs = pod.status?.containerStatuses?.[0]?.state;
    if (!cs?.running && !cs?.terminated) return send(400, status(400, 'BadRequest', `container "step" in pod "${key.split('/')[1]}" is waiting to start: ${cs?.waiting?.reason ?? 'ContainerCreating'}`));
    const sinceMs = q.sinceTime ? Date.parse(q.sinceTime) : -Infinity;
    const lines = cluster.logs.get(key)!;
    const stamped = q.timestamps === 'true';
    let sent = 0;
    let i = 0;
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    const flush = (): boolean => {
      for (; i < lines.length; i++) {
        const l = lines[i]!;
        if (l.ms < sinceMs) continue;
        const text = `${stamped ? `${l.ts} ` : ''}${l.text}\n`;
        if (q.follow === 'true' && o.dropFollowAfterLines !== undefined && sent >= o.dropFollowAfterLines) {
          res.write(text.slice(0, Math.ceil(text.length / 2))); // half a line, then the connection drops
          res.destroy();
          return false;
        }
        res.write(text);
        sent++;
      }
      return true;
    };
    const ended = () => {
      const p = cluster.pods.get(key);
      return !p || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    };
    if (!flush()) return;
    if (q.follow !== 'true' || ended()) return void res.end();
    const waiters = logWaiters.get(key) ?? new Set();
    logWaiters.set(key, waiters);
    const push = () => void (flush() || cleanup());
    waiters.add(push);
    const off = cluster.subscribe((e) => {
      if (e.kind === 'Pod' && `${e.object.metadata.namespace}/${e.object.metadata.name}` === key && ended()) {
        flush();
        res.end();
      }
    });
    const timer = o.dropFollowAfterMs !== undefined ? setTimeout(() => res.destroy(), o.dropFollowAfterMs) : undefined;
    const cleanup = () => {
      waiters.delete(push);
      off();
      clearTimeout(timer);
    };
    res.on('close', cleanup);
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    cluster,
    requests,
    kubeconfig(dir, ns = 'data') {
      const file = path.join(dir, 'kubeconfig.yaml');
      writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          `- name: fake`,
          `  cluster: {server: "${url}", insecure-skip-tls-verify: true}`, // client-node refuses plain http otherwise
          'users:',
          `- name: fake`,
          `  user: {token: ${token}}`,
          'contexts:',
          `- name: fake`,
          `  context: {cluster: fake, user: fake, namespace: ${ns}}`,
          'current-context: fake',
          '',
        ].join('\n'),
      );
      return file;
    },
    fail(method, p, code, f = {}) {
      faults.push({ method, path: p, status: code, times: f.times ?? 1, retryAfter: f.retryAfter });
    },
    compact() {
      // Other writes went on meanwhile, and the history before them is compacted away.
      cluster.rv += 5;
      cluster.compactedBelow = cluster.rv;
      cluster.history.length = 0;
    },
    dropWatches() {
      for (const w of watches) w.end();
    },
    async close() {
      cluster.close();
      for (const w of watches) w.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
