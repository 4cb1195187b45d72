/**
 * The tests' own GraphQL calls to a real Dagster webserver: readiness, `launchRun` (as the
 * UI, a schedule or a sensor launches a run), and the runs with their tags. Independent of
 * the watcher's client, which is what the tests check.
 */

/** A run as the tests read it. */
export interface RealRun {
  runId: string;
  jobName: string;
  status: string;
  parentRunId: string | null;
  rootRunId: string | null;
  location: string | null;
  tags: Record<string, string>;
}

/** Finished statuses (Dagster's FINISHED_STATUSES). */
export const FINISHED = new Set(['SUCCESS', 'FAILURE', 'CANCELED']);

const LAUNCH = `mutation RunnerTestLaunch($p: ExecutionParams!) {
  launchRun(executionParams: $p) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
  }
}`;

/** One webserver's GraphQL endpoint. */
export class DagsterApi {
  constructor(readonly url: string) {}

  /** POSTs a query; the `data`, or an error with Dagster's answer. */
  async graphql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(`${this.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const text = await res.text();
    const body = JSON.parse(text) as { data?: T; errors?: Array<{ message: string }> };
    if (!res.ok || body.errors?.length || !body.data) throw new Error(`Dagster at ${this.url} answered HTTP ${res.status}: ${text.slice(0, 500)}`);
    return body.data;
  }

  /** True when every location is loaded (a RepositoryLocation, not an error); undefined otherwise. */
  async locationsLoaded(names: string[]): Promise<true | undefined> {
    const d = await this.graphql<{ workspaceOrError: { locationEntries?: Array<{ name: string; loadStatus: string; locationOrLoadError: { __typename: string } | null }> } }>(
      '{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus locationOrLoadError { __typename } } } } }',
    );
    const entries = d.workspaceOrError.locationEntries ?? [];
    return names.every((n) => entries.some((e) => e.name === n && e.loadStatus === 'LOADED' && e.locationOrLoadError?.__typename === 'RepositoryLocation')) ? true : undefined;
  }

  /** True when the named daemons report healthy. */
  async daemonsHealthy(types: string[]): Promise<true | undefined> {
    const d = await this.graphql<{ instance: { daemonHealth: { allDaemonStatuses: Array<{ daemonType: string; healthy: boolean | null }> } } }>(
      '{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }',
    );
    const all = d.instance.daemonHealth.allDaemonStatuses;
    return types.every((t) => all.some((s) => s.daemonType === t && s.healthy === true)) ? true : undefined;
  }

  /** Launches a job of a code location with tags; its run id. */
  async launch(location: string, job: string, tags: Record<string, string> = {}): Promise<string> {
    const d = await this.graphql<{ launchRun: { __typename: string; run?: { runId: string }; message?: string; errors?: Array<{ message: string }> } }>(LAUNCH, {
      p: { selector: { repositoryLocationName: location, repositoryName: '__repository__', jobName: job }, runConfigData: {}, executionMetadata: { tags: Object.entries(tags).map(([key, value]) => ({ key, value })) } },
    });
    const r = d.launchRun;
    if (r.__typename !== 'LaunchRunSuccess' || !r.run) throw new Error(`launching ${location}/${job} failed: ${r.__typename} ${r.message ?? JSON.stringify(r.errors ?? '')}`);
    return r.run.runId;
  }

  /** Every run of the instance, newest first. */
  async runs(): Promise<RealRun[]> {
    const d = await this.graphql<{ runsOrError: { results: Array<Omit<RealRun, 'tags' | 'location'> & { tags: Array<{ key: string; value: string }>; repositoryOrigin: { repositoryLocationName: string } | null }> } }>(
      '{ runsOrError { ... on Runs { results { runId jobName status parentRunId rootRunId repositoryOrigin { repositoryLocationName } tags { key value } } } } }',
    );
    return d.runsOrError.results.map((r) => ({ runId: r.runId, jobName: r.jobName, status: r.status, parentRunId: r.parentRunId, rootRunId: r.rootRunId, location: r.repositoryOrigin?.repositoryLocationName ?? null, tags: Object.fromEntries(r.tags.map((t) => [t.key, t.value])) }));
  }

  /** The members of a union type, by introspection. */
  async unionMembers(name: string): Promise<string[]> {
    const d = await this.graphql<{ __type: { possibleTypes: Array<{ name: string }> } | null }>('query($n: String!) { __type(name: $n) { possibleTypes { name } } }', { n: name });
    return (d.__type?.possibleTypes ?? []).map((t) => t.name);
  }
}
