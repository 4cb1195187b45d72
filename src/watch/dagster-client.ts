/**
 * A small client of Dagster's GraphQL API (`<webserver>/graphql`, POST JSON), for the
 * queries a watcher needs: the runs that ended in failure since a time (`runsOrError`
 * with `RunsFilter {statuses: [FAILURE], updatedAfter}`), and for one run its step
 * statuses (`runOrError → Run.stepStats`) and its failure events (`logsForRun →
 * ExecutionStepFailureEvent / RunFailureEvent`). Field names and types follow Dagster's
 * published schema (see docs/dagster-alerts.md for the version).
 *
 * Every failure becomes a {@link DagsterError} whose message says what went wrong and
 * never holds the token (the caller masks the URL too: it may carry credentials).
 *
 * Dagster+ (`cloud`, or a URL on `*.dagster.cloud`) takes its token in the header
 * `Dagster-Cloud-Api-Token`, on the URL of one deployment (`https://ORG.dagster.cloud/prod`);
 * any other webserver gets `Authorization: Bearer <token>` (for a proxy in front of it).
 */

/** Why a request to Dagster failed, for metrics and messages. */
export type DagsterErrorKind = 'unreachable' | 'timeout' | 'http' | 'graphql' | 'dagster' | 'invalid';

/** A request to Dagster that did not give an answer the watcher can use. */
export class DagsterError extends Error {
  constructor(
    readonly kind: DagsterErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DagsterError';
  }
}

/** A `PipelineTag` / `ExecutionTag`. */
export interface DagsterTag {
  key: string;
  value: string;
}

/** A run as `runsOrError` lists it (the fields the watcher asks for). */
export interface DagsterRunSummary {
  runId: string;
  jobName: string;
  status: string;
  creationTime: number;
  startTime: number | null;
  endTime: number | null;
  /** When Dagster last wrote the run (seconds since the epoch): the watcher's cursor. */
  updateTime: number | null;
  repositoryOrigin: { repositoryLocationName: string; repositoryName: string } | null;
  tags: DagsterTag[];
}

/** A `PythonError` as the watcher reads it. */
export interface DagsterPythonError {
  message: string;
  className?: string | null;
  errorChain?: Array<{ isExplicitLink: boolean; error: { message: string; className?: string | null } }> | null;
}

/** What a failed run's event log says about why it failed. */
export interface DagsterRunDetail {
  /** False when Dagster no longer has the run (deleted after it failed). */
  found: boolean;
  /** The run as Dagster has it now (absent when not found). */
  run?: DagsterRunSummary;
  /** Each step's status (`RunStepStats`), in Dagster's order. */
  steps: Array<{ stepKey: string; status: string | null }>;
  /** `ExecutionStepFailureEvent`s, in log order. */
  stepFailures: Array<{ stepKey: string | null; message: string; error: DagsterPythonError | null }>;
  /** The `RunFailureEvent`, when there is one. */
  runFailure: { message: string; error: DagsterPythonError | null } | null;
  /**
   * The last `EngineEvent` before the run failure: what Dagster saw from outside the run
   * (`Run execution process ... was terminated by signal 9 (SIGKILL)`), when no step failed.
   */
  lastEngineEvent: { message: string; error: DagsterPythonError | null } | null;
  /** True when the event log was longer than the client reads. */
  truncated: boolean;
}

/** Options of the client. */
export interface DagsterClientOptions {
  /** The webserver's URL (`https://pipelines.example.org`); `/graphql` is appended. */
  url: string;
  /** Sent as `Dagster-Cloud-Api-Token` to Dagster+, else as `Authorization: Bearer <token>` (a proxy). */
  token?: string;
  /** Dagster+ (default: whether the URL's host ends in `.dagster.cloud`). */
  cloud?: boolean;
  /** How long one request may take (default 30s). */
  timeoutMs?: number;
  /** Cancels every request (serve shutting down). */
  signal?: AbortSignal;
  /** Runs per `runsOrError` page (default 100). */
  pageSize?: number;
  /** Events per `logsForRun` page (default 1000). */
  eventPageSize?: number;
  /** The most event pages read for one run (default 50). */
  maxEventPages?: number;
}

const RUN_FIELDS = 'runId jobName status creationTime startTime endTime updateTime repositoryOrigin { repositoryLocationName repositoryName } tags { key value }';

/** A `runsOrError` query: paged by cursor (the failed-runs listing) or not (runs by id). */
const runsQuery = (name: string, paged: boolean) => `query ${name}($filter: RunsFilter${paged ? ', $cursor: String' : ''}, $limit: Int) {
  runsOrError(filter: $filter${paged ? ', cursor: $cursor' : ''}, limit: $limit) {
    __typename
    ... on Runs {
      results { ${RUN_FIELDS} }
    }
    ... on InvalidPipelineRunsFilterError { message }
    ... on PythonError { message }
  }
}`;

const RUNS_QUERY = runsQuery('RunnerWatcherFailedRuns', true);
const RUNS_BY_ID_QUERY = runsQuery('RunnerWatcherRunsById', false);

const STEPS_QUERY = `query RunnerWatcherRunSteps($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      ${RUN_FIELDS}
      stepStats { stepKey status }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}`;

const ERROR_FIELDS = 'message className errorChain { isExplicitLink error { message className } }';

const EVENTS_QUERY = `query RunnerWatcherRunEvents($runId: ID!, $afterCursor: String, $limit: Int) {
  logsForRun(runId: $runId, afterCursor: $afterCursor, limit: $limit) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events {
        __typename
        ... on ExecutionStepFailureEvent { stepKey message error { ${ERROR_FIELDS} } }
        ... on RunFailureEvent { message error { ${ERROR_FIELDS} } }
        ... on EngineEvent { message error { ${ERROR_FIELDS} } }
      }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}`;

/** The queries, for the fake server's tests and the docs. */
export const DAGSTER_QUERIES = { runs: RUNS_QUERY, runsById: RUNS_BY_ID_QUERY, steps: STEPS_QUERY, events: EVENTS_QUERY } as const;

/** Whether a webserver URL is Dagster+ (`https://ORG.dagster.cloud/DEPLOYMENT`). */
export function isDagsterCloud(url: string): boolean {
  try {
    return /(^|\.)dagster\.cloud$/i.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** Talks to one Dagster webserver. */
export class DagsterClient {
  /** The GraphQL endpoint. */
  readonly endpoint: string;
  /** Whether requests go to Dagster+ (its token header). */
  readonly cloud: boolean;
  private readonly o: Required<Omit<DagsterClientOptions, 'token' | 'signal' | 'cloud'>> & Pick<DagsterClientOptions, 'token' | 'signal'>;

  constructor(opts: DagsterClientOptions) {
    this.o = { timeoutMs: 30_000, pageSize: 100, eventPageSize: 1000, maxEventPages: 50, ...definedOnly(opts) } as DagsterClient['o'];
    this.endpoint = graphqlEndpoint(opts.url);
    this.cloud = opts.cloud ?? isDagsterCloud(opts.url);
  }

  /** The runs with these ids that Dagster still has (any status), in no particular order. */
  async runsByIds(runIds: string[]): Promise<DagsterRunSummary[]> {
    if (runIds.length === 0) return [];
    const data = await this.request<{ runsOrError: Record<string, unknown> }>('RunnerWatcherRunsById', RUNS_BY_ID_QUERY, { filter: { runIds }, limit: runIds.length });
    const r = unionValue(data.runsOrError, 'runsOrError', 'Runs');
    return asArray(r['results'], 'runsOrError.results').map(parseRunSummary);
  }

  /**
   * Every run that ended in failure and was written after `updatedAfter` (seconds since
   * the epoch), oldest first. Dagster lists newest first and pages backwards by run id,
   * so the whole backlog is read before any of it is handed back: nothing is skipped.
   */
  async failedRunsSince(updatedAfter: number): Promise<DagsterRunSummary[]> {
    const all: DagsterRunSummary[] = [];
    const seen = new Set<string>();
    let cursor: string | null = null;
    for (let page = 0; ; page++) {
      if (page >= 10_000) throw new DagsterError('invalid', 'Dagster kept returning pages of failed runs (more than 10,000 pages): giving up on this poll');
      const data = await this.request<{ runsOrError: Record<string, unknown> }>('RunnerWatcherFailedRuns', RUNS_QUERY, {
        filter: { statuses: ['FAILURE'], updatedAfter },
        cursor,
        limit: this.o.pageSize,
      });
      const r = unionValue(data.runsOrError, 'runsOrError', 'Runs');
      const results = asArray(r['results'], 'runsOrError.results').map(parseRunSummary);
      let fresh = 0;
      for (const run of results) {
        if (seen.has(run.runId)) continue;
        seen.add(run.runId);
        all.push(run);
        fresh++;
      }
      if (results.length < this.o.pageSize || fresh === 0) break;
      cursor = results[results.length - 1]!.runId;
    }
    // Oldest failure first; runs written in the same instant keep Dagster's creation order.
    return all.sort((a, b) => (a.updateTime ?? a.endTime ?? 0) - (b.updateTime ?? b.endTime ?? 0) || a.creationTime - b.creationTime);
  }

  /** Why one run failed: its steps' statuses and the failure events of its log. */
  async runDetail(runId: string): Promise<DagsterRunDetail> {
    const detail: DagsterRunDetail = { found: true, steps: [], stepFailures: [], runFailure: null, lastEngineEvent: null, truncated: false };
    const stepsData = await this.request<{ runOrError: Record<string, unknown> }>('RunnerWatcherRunSteps', STEPS_QUERY, { runId });
    if (stepsData.runOrError?.['__typename'] === 'RunNotFoundError') return { ...detail, found: false };
    const run = unionValue(stepsData.runOrError, 'runOrError', 'Run');
    detail.run = parseRunSummary(run);
    for (const s of asArray(run['stepStats'] ?? [], 'stepStats')) {
      const o = s as Record<string, unknown>;
      if (typeof o['stepKey'] === 'string') detail.steps.push({ stepKey: o['stepKey'], status: typeof o['status'] === 'string' ? o['status'] : null });
    }
    let after: string | null = null;
    for (let page = 0; ; page++) {
      if (page >= this.o.maxEventPages) {
        detail.truncated = true;
        break;
      }
      const data = await this.request<{ logsForRun: Record<string, unknown> }>('RunnerWatcherRunEvents', EVENTS_QUERY, { runId, afterCursor: after, limit: this.o.eventPageSize });
      if (data.logsForRun?.['__typename'] === 'RunNotFoundError') return { ...detail, found: false };
      const conn = unionValue(data.logsForRun, 'logsForRun', 'EventConnection');
      for (const e of asArray(conn['events'], 'logsForRun.events')) {
        const ev = e as Record<string, unknown>;
        if (ev['__typename'] === 'ExecutionStepFailureEvent') {
          detail.stepFailures.push({ stepKey: typeof ev['stepKey'] === 'string' ? ev['stepKey'] : null, message: String(ev['message'] ?? ''), error: parsePythonError(ev['error']) });
        } else if (ev['__typename'] === 'RunFailureEvent') {
          detail.runFailure = { message: String(ev['message'] ?? ''), error: parsePythonError(ev['error']) };
        } else if (ev['__typename'] === 'EngineEvent' && !detail.runFailure) {
          detail.lastEngineEvent = { message: String(ev['message'] ?? ''), error: parsePythonError(ev['error']) };
        }
      }
      const next = typeof conn['cursor'] === 'string' ? conn['cursor'] : null;
      // Dagster's hasMore means "this page is full": the next page may well be empty.
      if (conn['hasMore'] !== true || next === null || next === after) break;
      after = next;
    }
    return detail;
  }

  /** One POST; the parsed `data`, or a DagsterError. */
  private async request<T>(operationName: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.o.token) {
      if (this.cloud) headers['dagster-cloud-api-token'] = this.o.token;
      else headers['authorization'] = `Bearer ${this.o.token}`;
    }
    const timeout = AbortSignal.timeout(this.o.timeoutMs);
    const signal = this.o.signal ? AbortSignal.any([timeout, this.o.signal]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.endpoint, { method: 'POST', headers, body: JSON.stringify({ operationName, query, variables }), signal });
      text = await res.text();
    } catch (err) {
      if (this.o.signal?.aborted) throw new DagsterError('unreachable', 'the request to Dagster was canceled');
      if (timeout.aborted) throw new DagsterError('timeout', `Dagster did not answer within ${Math.round(this.o.timeoutMs / 100) / 10}s`);
      throw new DagsterError('unreachable', `could not reach Dagster${networkCode(err)}`);
    }
    if (!res.ok) {
      const hint = res.status === 401 || res.status === 403 ? ` (check the watcher's dagster.token${this.cloud ? ', a Dagster+ user or agent token for this deployment' : ''})` : '';
      throw new DagsterError('http', `Dagster answered HTTP ${res.status}${hint}${snippet(text)}`);
    }
    let body: { data?: T | null; errors?: Array<{ message?: unknown }> };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new DagsterError('invalid', `Dagster's answer is not JSON (is the URL the Dagster webserver?)${snippet(text)}`);
    }
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      const first = body.errors.map((e) => String(e?.message ?? 'unknown error'));
      throw new DagsterError('graphql', `Dagster's GraphQL API answered: ${first.slice(0, 3).join('; ')}`);
    }
    if (!body.data || typeof body.data !== 'object') throw new DagsterError('invalid', "Dagster's answer has no data");
    return body.data;
  }
}

/** `<url>/graphql`, whatever the URL's trailing slashes. */
export function graphqlEndpoint(url: string): string {
  return `${url.replace(/\/+$/, '')}/graphql`;
}

/** The value of a `...OrError` union when it is `want`; otherwise the error it holds, as a DagsterError. */
function unionValue(v: unknown, field: string, want: string): Record<string, unknown> {
  if (!v || typeof v !== 'object') throw new DagsterError('invalid', `Dagster's answer has no ${field}`);
  const o = v as Record<string, unknown>;
  if (o['__typename'] === want) return o;
  const message = typeof o['message'] === 'string' ? `: ${oneLine(o['message'])}` : '';
  throw new DagsterError('dagster', `Dagster answered ${String(o['__typename'] ?? 'an unknown type')} for ${field}${message}`);
}

function asArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new DagsterError('invalid', `Dagster's answer has no list ${what}`);
  return v;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function parseRunSummary(v: unknown): DagsterRunSummary {
  const o = (v ?? {}) as Record<string, unknown>;
  if (typeof o['runId'] !== 'string' || !o['runId']) throw new DagsterError('invalid', 'Dagster listed a run without a runId');
  const origin = o['repositoryOrigin'] as Record<string, unknown> | null | undefined;
  const tags = Array.isArray(o['tags']) ? (o['tags'] as Array<Record<string, unknown>>).filter((t) => typeof t?.['key'] === 'string').map((t) => ({ key: String(t['key']), value: String(t['value'] ?? '') })) : [];
  return {
    runId: o['runId'],
    jobName: typeof o['jobName'] === 'string' ? o['jobName'] : '',
    status: typeof o['status'] === 'string' ? o['status'] : '',
    creationTime: num(o['creationTime']) ?? 0,
    startTime: num(o['startTime']),
    endTime: num(o['endTime']),
    updateTime: num(o['updateTime']),
    repositoryOrigin: origin && typeof origin === 'object' ? { repositoryLocationName: String(origin['repositoryLocationName'] ?? ''), repositoryName: String(origin['repositoryName'] ?? '') } : null,
    tags,
  };
}

function parsePythonError(v: unknown): DagsterPythonError | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const chain = Array.isArray(o['errorChain'])
    ? (o['errorChain'] as Array<Record<string, unknown>>)
        .filter((l) => l?.['error'] && typeof l['error'] === 'object')
        .map((l) => {
          const e = l['error'] as Record<string, unknown>;
          return { isExplicitLink: l['isExplicitLink'] === true, error: { message: String(e['message'] ?? ''), className: typeof e['className'] === 'string' ? e['className'] : null } };
        })
    : null;
  return { message: String(o['message'] ?? ''), className: typeof o['className'] === 'string' ? o['className'] : null, errorChain: chain };
}

function networkCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string; errors?: Array<{ code?: string }> } };
  const code = e?.cause?.code ?? e?.cause?.errors?.[0]?.code ?? e?.code;
  return code ? ` (${code})` : '';
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 300 ? t.slice(0, 299) + '…' : t;
}

function snippet(text: string): string {
  const t = oneLine(text.replace(/<[^>]*>/g, ' '));
  return t ? `: ${t.slice(0, 200)}` : '';
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
