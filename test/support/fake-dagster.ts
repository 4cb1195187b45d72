/**
 * A fake Dagster webserver on 127.0.0.1 (port 0): `POST /graphql` answered by a small
 * GraphQL executor over a slice of Dagster's published schema (the types a watcher can
 * reach from `runsOrError`, `runOrError` and `logsForRun`, with Dagster's field names,
 * argument names and types, unions and interfaces). A query that names a field, argument,
 * type condition or input field the real schema does not have is rejected as the real
 * server rejects it (HTTP 400, `{"errors": [...]}`), and only the selected fields are
 * answered, so a client that forgets a field gets nothing for it.
 *
 * Semantics follow Dagster's run storage: `runsOrError` lists newest first (by storage
 * id), `cursor` is a run id and pages to older runs, `RunsFilter.updatedAfter` is strict
 * (`update_timestamp > x`), and writing tags moves a run's `updateTime` (`add_run_tags`);
 * `logsForRun` pages forward with an opaque cursor and `hasMore` means "this page is full"
 * (`sql_event_log.py`: `has_more=bool(limit and len(results) == limit)`), so a full last
 * page is followed by an empty one. The event union has the members Dagster 1.11.13's
 * schema gives `DagsterRunEvent`, and the two 1.13.28 adds (checked against both real
 * webservers by test/watch/real-dagster.test.ts).
 * It can be made unreachable (`stop()` / `restart()` on the same port), answer HTTP
 * errors or a `PythonError`, require a bearer token, or play Dagster+ (`cloud`): GraphQL at
 * `/<deployment>/graphql`, the token in `Dagster-Cloud-Api-Token`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Operation, GqlError, coerce, execute, parseDocument, validate } from './fake-dagster-graphql.js';
import type { PlainEventType } from './fake-dagster-schema.js';

export { RUN_EVENT_TYPES, RUN_EVENT_TYPES_ADDED_IN_1_13 } from './fake-dagster-schema.js';

// ---------------------------------------------------------------------------------------
// The fake server and its data.

/** A Python error as Dagster serializes it. */
export interface FakeError {
  message: string;
  className?: string;
  /** Causes, outermost first. */
  chain?: Array<{ message: string; className?: string; explicit?: boolean }>;
}

/** One event of a run's log (any other member of the union: its type name, a message, maybe a step). */
export type FakeEvent =
  | { type: 'ExecutionStepFailureEvent'; stepKey: string; message?: string; error?: FakeError | null }
  | { type: 'RunStartEvent'; message?: string }
  | { type: 'RunFailureEvent'; message: string; error?: FakeError | null }
  | { type: 'EngineEvent'; message: string; stepKey?: string; error?: FakeError | null }
  | { type: PlainEventType; stepKey?: string; message: string };

/** A run as the fake stores it. Times are seconds since the epoch, as Dagster's Floats. */
export interface FakeRun {
  runId: string;
  jobName: string;
  location: string;
  repository?: string;
  status?: string;
  tags?: Record<string, string>;
  creationTime: number;
  updateTime: number;
  startTime?: number;
  endTime?: number;
  steps?: Array<{ stepKey: string; status: 'SUCCESS' | 'FAILURE' | 'SKIPPED' | 'IN_PROGRESS' }>;
  events?: FakeEvent[];
}

/** A request the fake received. */
export interface FakeRequest {
  operationName: string | null;
  variables: Record<string, unknown>;
  authorization: string | undefined;
  /** The `Dagster-Cloud-Api-Token` header. */
  cloudToken: string | undefined;
  /** The request's path. */
  path: string;
  status: number;
}

/** How the fake answers the next requests (each used once, in order). */
export type FakeFailure = { http: number; body?: string } | { pythonError: string } | { graphqlError: string } | { hang: true };

function pythonError(e: FakeError): Record<string, unknown> {
  return {
    __typename: 'PythonError',
    message: e.message,
    className: e.className ?? null,
    stack: ['  File "dagster/_core/execution/plan/execute_step.py", line 1, in core_dagster_event_sequence_for_step\n'],
    cause: null,
    causes: [],
    errorChain: (e.chain ?? []).map((c) => ({ __typename: 'ErrorChainLink', message: c.message, isExplicitLink: c.explicit ?? true, error: pythonError({ message: c.message, className: c.className }) })),
  };
}

/** A running fake Dagster webserver. */
export class FakeDagster {
  /** `http://127.0.0.1:PORT` (the webserver; GraphQL at `/graphql`). */
  url = '';
  readonly requests: FakeRequest[] = [];
  /** Answers for the next requests, in order; after them, normal answers. */
  readonly script: FakeFailure[] = [];
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  token: string | undefined;
  /** Dagster+: GraphQL at `/<deployment>/graphql` only, and requests without `Dagster-Cloud-Api-Token: <token>` get 401. */
  cloud: { deployment: string; token: string } | undefined;
  private readonly runs: FakeRun[] = [];
  private server: http.Server;
  private port = 0;

  private constructor() {
    this.server = this.makeServer();
  }

  static async start(opts: { token?: string; cloud?: { deployment: string; token: string } } = {}): Promise<FakeDagster> {
    const d = new FakeDagster();
    d.token = opts.token;
    d.cloud = opts.cloud;
    await d.listen(0);
    return d;
  }

  /** Adds runs (storage order: later calls are newer runs). */
  add(...runs: FakeRun[]): void {
    this.runs.push(...runs);
  }

  /** Changes a stored run. New tags move its updateTime to now, as Dagster's `add_run_tags` does, unless `change` sets it. */
  update(runId: string, change: Partial<FakeRun>): void {
    const r = this.runs.find((x) => x.runId === runId);
    if (!r) throw new Error(`no run ${runId}`);
    Object.assign(r, change.tags && change.updateTime === undefined ? { ...change, updateTime: Math.max(r.updateTime, Date.now() / 1000) } : change);
  }

  /** Adds or overwrites tags of a stored run, as Dagster's `add_run_tags` (which moves `updateTime` to now). */
  addTags(runId: string, tags: Record<string, string>): void {
    const r = this.runs.find((x) => x.runId === runId);
    if (!r) throw new Error(`no run ${runId}`);
    this.update(runId, { tags: { ...r.tags, ...tags } });
  }

  /** A stored run. */
  run(runId: string): FakeRun | undefined {
    return this.runs.find((x) => x.runId === runId);
  }

  /** Requests per operation name. */
  count(operationName: string): number {
    return this.requests.filter((r) => r.operationName === operationName).length;
  }

  /** Stops listening: connections are refused, as when the webserver is down. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    this.server = this.makeServer();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.stop();
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  private makeServer(): http.Server {
    return http.createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const send = (status: number, body: unknown, entry?: FakeRequest): void => {
      if (entry) entry.status = status;
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const path = req.url?.split('?')[0] ?? '';
    if (req.method !== 'POST' || path !== (this.cloud ? `/${this.cloud.deployment}/graphql` : '/graphql')) return send(404, '<html>Not Found</html>');
    let body: { query?: string; variables?: Record<string, unknown> | null; operationName?: string | null };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return send(400, { errors: [{ message: 'POST body sent invalid JSON.' }] });
    }
    const cloudToken = req.headers['dagster-cloud-api-token'] as string | undefined;
    const entry: FakeRequest = { operationName: body.operationName ?? null, variables: body.variables ?? {}, authorization: req.headers.authorization, cloudToken, path, status: 0 };
    this.requests.push(entry);
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) return send(401, '<html>401 Unauthorized</html>', entry);
    if (this.cloud && cloudToken !== this.cloud.token) return send(401, { errors: [{ message: 'Invalid or missing Dagster Cloud API token' }] }, entry);
    const scripted = this.script.shift();
    if (scripted && 'hang' in scripted) return;
    if (scripted && 'http' in scripted) return send(scripted.http, scripted.body ?? `<html>${scripted.http} Bad Gateway</html>`, entry);
    if (scripted && 'graphqlError' in scripted) return send(200, { data: null, errors: [{ message: scripted.graphqlError, locations: [{ line: 2, column: 3 }], path: ['runsOrError'] }] }, entry);
    let op: Operation;
    let vars: Record<string, unknown>;
    try {
      const ops = parseDocument(body.query ?? '');
      const found = ops.length === 1 && !body.operationName ? ops[0] : ops.find((o) => o.name === body.operationName);
      if (!found) throw new GqlError(`Unknown operation named "${body.operationName ?? ''}".`);
      op = found;
      validate(op.sel, 'Query', op.vars);
      vars = {};
      for (const [v, t] of Object.entries(op.vars)) vars[v] = coerce(entry.variables[v], t, `$${v}`);
    } catch (err) {
      return send(400, { errors: [{ message: (err as Error).message }] }, entry);
    }
    try {
      const root = this.root(scripted && 'pythonError' in scripted ? scripted.pythonError : undefined);
      send(200, { data: execute(op.sel, root, 'Query', vars) }, entry);
    } catch (err) {
      send(200, { data: null, errors: [{ message: (err as Error).message }] }, entry);
    }
  }

  private root(pythonFailure: string | undefined): Record<string, unknown> {
    const failing = (): Record<string, unknown> | undefined => (pythonFailure ? pythonError({ message: pythonFailure, className: 'DagsterError' }) : undefined);
    return {
      __typename: 'Query',
      version: '1.11.0',
      runsOrError: (a: Record<string, unknown>) => failing() ?? { __typename: 'Runs', results: this.listRuns(a), count: null },
      runOrError: (a: Record<string, unknown>) => failing() ?? this.runOrError(String(a['runId'])),
      logsForRun: (a: Record<string, unknown>) => failing() ?? this.logsForRun(String(a['runId']), a['afterCursor'] as string | null, a['limit'] as number | null),
    };
  }

  private listRuns(a: Record<string, unknown>): Array<Record<string, unknown>> {
    const f = (a['filter'] ?? {}) as Record<string, unknown>;
    // Dagster's storage: newest (highest storage id) first; `cursor` pages to older runs.
    let ids = this.runs.map((_, i) => i).reverse();
    const keep = (r: FakeRun): boolean => {
      if (Array.isArray(f['runIds']) && f['runIds'].length > 0 && !(f['runIds'] as string[]).includes(r.runId)) return false;
      if (f['pipelineName'] && r.jobName !== f['pipelineName']) return false;
      if (Array.isArray(f['statuses']) && f['statuses'].length > 0 && !(f['statuses'] as string[]).includes(r.status ?? 'FAILURE')) return false;
      if (Array.isArray(f['tags']) && !(f['tags'] as Array<{ key: string; value: string }>).every((t) => r.tags?.[t.key] === t.value)) return false;
      // Dagster ignores a zero or missing bound (`if self.updatedAfter`); bounds are strict.
      if (f['updatedAfter'] && !(r.updateTime > (f['updatedAfter'] as number))) return false;
      if (f['updatedBefore'] && !(r.updateTime < (f['updatedBefore'] as number))) return false;
      if (f['createdAfter'] && !(r.creationTime > (f['createdAfter'] as number))) return false;
      if (f['createdBefore'] && !(r.creationTime < (f['createdBefore'] as number))) return false;
      return true;
    };
    ids = ids.filter((i) => keep(this.runs[i]!));
    if (typeof a['cursor'] === 'string') {
      const at = this.runs.findIndex((r) => r.runId === a['cursor']);
      ids = at < 0 ? [] : ids.filter((i) => i < at);
    }
    if (typeof a['limit'] === 'number') ids = ids.slice(0, a['limit']);
    return ids.map((i) => this.runObject(this.runs[i]!));
  }

  private runObject(r: FakeRun): Record<string, unknown> {
    return {
      __typename: 'Run',
      id: r.runId,
      runId: r.runId,
      status: r.status ?? 'FAILURE',
      jobName: r.jobName,
      pipelineName: r.jobName,
      mode: 'default',
      repositoryOrigin: { __typename: 'RepositoryOrigin', id: `${r.location}:${r.repository ?? '__repository__'}`, repositoryLocationName: r.location, repositoryName: r.repository ?? '__repository__' },
      tags: Object.entries(r.tags ?? {}).map(([key, value]) => ({ __typename: 'PipelineTag', key, value })),
      rootRunId: null,
      parentRunId: null,
      canTerminate: false,
      creationTime: r.creationTime,
      startTime: r.startTime ?? r.creationTime,
      endTime: r.endTime ?? r.updateTime,
      updateTime: r.updateTime,
      stepKeysToExecute: null,
      stepStats: (r.steps ?? []).map((s) => ({ __typename: 'RunStepStats', runId: r.runId, stepKey: s.stepKey, status: s.status, startTime: r.startTime ?? null, endTime: r.endTime ?? null })),
      eventConnection: (a: Record<string, unknown>) => this.logsForRun(r.runId, a['afterCursor'] as string | null, a['limit'] as number | null),
    };
  }

  private runOrError(runId: string): Record<string, unknown> {
    const r = this.runs.find((x) => x.runId === runId);
    return r ? this.runObject(r) : { __typename: 'RunNotFoundError', runId, message: `Run ${runId} could not be found.` };
  }

  private logsForRun(runId: string, afterCursor: string | null, limit: number | null): Record<string, unknown> {
    const r = this.runs.find((x) => x.runId === runId);
    if (!r) return { __typename: 'RunNotFoundError', runId, message: `Run ${runId} could not be found.` };
    const events = r.events ?? [];
    // An opaque cursor, as Dagster's serialized EventLogCursor.
    const start = afterCursor ? (JSON.parse(Buffer.from(afterCursor, 'base64').toString('utf8')) as { s: number }).s + 1 : 0;
    const end = limit ? Math.min(events.length, start + limit) : events.length;
    const page = events.slice(start, end).map((e, k) => this.eventObject(r, e, start + k));
    // An empty page keeps the cursor; hasMore only says the page is full (Dagster's has_more).
    const last = Math.max(start, end) - 1;
    return { __typename: 'EventConnection', events: page, cursor: Buffer.from(JSON.stringify({ s: last, c: 'STORAGE_ID' })).toString('base64'), hasMore: !!limit && page.length === limit };
  }

  private eventObject(r: FakeRun, e: FakeEvent, index: number): Record<string, unknown> {
    const base = { __typename: e.type, runId: r.runId, timestamp: String(Math.round((r.startTime ?? r.creationTime) * 1000) + index), solidHandleID: null, stepKey: 'stepKey' in e ? (e.stepKey ?? null) : null };
    switch (e.type) {
      case 'ExecutionStepFailureEvent':
        return { ...base, level: 'ERROR', eventType: 'STEP_FAILURE', message: e.message ?? `Execution of step "${e.stepKey}" failed.`, error: e.error ? pythonError(e.error) : null, errorSource: 'USER_CODE_ERROR' };
      case 'RunFailureEvent':
        return { ...base, level: 'ERROR', eventType: 'RUN_FAILURE', message: e.message, pipelineName: r.jobName, error: e.error ? pythonError(e.error) : null };
      case 'RunStartEvent':
        return { ...base, level: 'DEBUG', eventType: 'RUN_START', message: e.message ?? `Started execution of run for "${r.jobName}".`, pipelineName: r.jobName };
      case 'EngineEvent': {
        const ev = e as Extract<FakeEvent, { type: 'EngineEvent' }>;
        return { ...base, level: 'INFO', eventType: 'ENGINE_EVENT', message: ev.message, error: ev.error ? pythonError(ev.error) : null, label: null, description: null, markerStart: null, markerEnd: null };
      }
      default:
        return { ...base, level: 'DEBUG', eventType: e.type === 'ExecutionStepStartEvent' ? 'STEP_START' : e.type === 'ExecutionStepSuccessEvent' ? 'STEP_SUCCESS' : null, message: (e as { message: string }).message, pipelineName: r.jobName };
    }
  }
}
