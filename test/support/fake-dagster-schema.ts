/**
 * The slice of Dagster's GraphQL schema the fake Dagster (fake-dagster.ts) answers: the types
 * a watcher can reach from `runsOrError`, `runOrError` and `logsForRun`, with Dagster's field
 * names, argument names and types, unions and interfaces.
 */
// ---------------------------------------------------------------------------------------
// The schema slice (from Dagster's schema.graphql).

const MESSAGE_EVENT = { runId: 'String!', message: 'String!', timestamp: 'String!', level: 'LogLevel!', stepKey: 'String', solidHandleID: 'String', eventType: 'DagsterEventType' };
/** Object types: their fields (with arguments) and the interfaces they implement. */
export const OBJECTS: Record<string, { fields: Record<string, string | { type: string; args: Record<string, string> }>; implements?: string[] }> = {
  Query: {
    fields: {
      version: 'String!',
      runsOrError: { type: 'RunsOrError!', args: { filter: 'RunsFilter', cursor: 'String', limit: 'Int' } },
      runOrError: { type: 'RunOrError!', args: { runId: 'ID!' } },
      logsForRun: { type: 'EventConnectionOrError!', args: { runId: 'ID!', afterCursor: 'String', limit: 'Int' } },
    },
  },
  Runs: { fields: { results: '[Run!]!', count: 'Int' }, implements: ['PipelineRuns'] },
  Run: {
    fields: {
      id: 'ID!', runId: 'String!', status: 'RunStatus!', jobName: 'String!', pipelineName: 'String!', mode: 'String!', repositoryOrigin: 'RepositoryOrigin',
      tags: '[PipelineTag!]!', rootRunId: 'String', parentRunId: 'String', canTerminate: 'Boolean!', creationTime: 'Float!', startTime: 'Float', endTime: 'Float',
      updateTime: 'Float', stepStats: '[RunStepStats!]!', stepKeysToExecute: '[String!]', eventConnection: { type: 'EventConnection!', args: { afterCursor: 'String', limit: 'Int' } },
    },
    implements: ['PipelineRun'],
  },
  RepositoryOrigin: { fields: { id: 'String!', repositoryLocationName: 'String!', repositoryName: 'String!' } },
  PipelineTag: { fields: { key: 'String!', value: 'String!' } },
  RunStepStats: { fields: { runId: 'String!', stepKey: 'String!', status: 'StepEventStatus', startTime: 'Float', endTime: 'Float' }, implements: ['PipelineRunStepStats'] },
  EventConnection: { fields: { events: '[DagsterRunEvent!]!', cursor: 'String!', hasMore: 'Boolean!' } },
  PythonError: { fields: { message: 'String!', className: 'String', stack: '[String!]!', cause: 'PythonError', causes: '[PythonError!]!', errorChain: '[ErrorChainLink!]!' }, implements: ['Error'] },
  ErrorChainLink: { fields: { message: 'String!', error: 'PythonError!', isExplicitLink: 'Boolean!' }, implements: ['Error'] },
  InvalidPipelineRunsFilterError: { fields: { message: 'String!' }, implements: ['Error'] },
  RunNotFoundError: { fields: { runId: 'String!', message: 'String!' }, implements: ['PipelineRunNotFoundError', 'Error'] },
  ExecutionStepFailureEvent: { fields: { ...MESSAGE_EVENT, error: 'PythonError', errorSource: 'ErrorSource' }, implements: ['MessageEvent', 'StepEvent', 'ErrorEvent'] },
  ExecutionStepStartEvent: { fields: MESSAGE_EVENT, implements: ['MessageEvent', 'StepEvent'] },
  ExecutionStepSuccessEvent: { fields: MESSAGE_EVENT, implements: ['MessageEvent', 'StepEvent'] },
  ExecutionStepUpForRetryEvent: { fields: { ...MESSAGE_EVENT, error: 'PythonError', secondsToWait: 'Int' }, implements: ['MessageEvent', 'StepEvent', 'ErrorEvent'] },
  LogMessageEvent: { fields: MESSAGE_EVENT, implements: ['MessageEvent'] },
  RunStartEvent: { fields: { ...MESSAGE_EVENT, pipelineName: 'String!' }, implements: ['MessageEvent', 'RunEvent'] },
  RunFailureEvent: { fields: { ...MESSAGE_EVENT, pipelineName: 'String!', error: 'PythonError' }, implements: ['MessageEvent', 'RunEvent', 'ErrorEvent'] },
  EngineEvent: { fields: { ...MESSAGE_EVENT, error: 'PythonError', label: 'String', description: 'String', markerStart: 'String', markerEnd: 'String' }, implements: ['MessageEvent', 'StepEvent', 'MarkerEvent', 'ErrorEvent'] },
  ...otherEvents(),
};

/**
 * The other members of `DagsterRunEvent` in Dagster 1.11.13 (introspection of the real
 * webserver), with the fields every event has; the watcher selects none of theirs.
 */
function otherEvents(): Record<string, { fields: Record<string, string>; implements: string[] }> {
  const step = ['ExecutionStepInputEvent', 'ExecutionStepOutputEvent', 'ExecutionStepSkippedEvent', 'ExecutionStepRestartEvent', 'StepWorkerStartedEvent', 'StepWorkerStartingEvent', 'HandledOutputEvent', 'LoadedInputEvent', 'ObjectStoreOperationEvent', 'StepExpectationResultEvent', 'MaterializationEvent', 'ObservationEvent', 'HookCompletedEvent', 'HookSkippedEvent', 'AssetCheckEvaluationEvent', 'AssetCheckEvaluationPlannedEvent', 'AssetMaterializationPlannedEvent', 'FailedToMaterializeEvent'];
  const withError = ['HookErroredEvent', 'ResourceInitFailureEvent'];
  const plain = ['HealthChangedEvent', 'ResourceInitStartedEvent', 'ResourceInitSuccessEvent', 'LogsCapturedEvent', 'AlertStartEvent', 'AlertSuccessEvent', 'AlertFailureEvent'];
  const run = ['RunEnqueuedEvent', 'RunDequeuedEvent', 'RunStartingEvent', 'RunCancelingEvent', 'RunCanceledEvent', 'RunSuccessEvent', 'RunSuspendedEvent', 'RunResumedEvent'];
  const out: Record<string, { fields: Record<string, string>; implements: string[] }> = {};
  for (const n of step) out[n] = { fields: MESSAGE_EVENT, implements: ['MessageEvent', 'StepEvent'] };
  for (const n of withError) out[n] = { fields: { ...MESSAGE_EVENT, error: 'PythonError' }, implements: ['MessageEvent', 'StepEvent', 'ErrorEvent'] };
  for (const n of plain) out[n] = { fields: MESSAGE_EVENT, implements: ['MessageEvent'] };
  for (const n of run) out[n] = { fields: { ...MESSAGE_EVENT, pipelineName: 'String!' }, implements: ['MessageEvent', 'RunEvent'] };
  return out;
}

/** The members of `DagsterRunEvent`, in Dagster 1.11.13's order. */
export const RUN_EVENT_TYPES = [
  'ExecutionStepFailureEvent', 'ExecutionStepInputEvent', 'ExecutionStepOutputEvent', 'ExecutionStepSkippedEvent', 'ExecutionStepStartEvent', 'ExecutionStepSuccessEvent',
  'ExecutionStepUpForRetryEvent', 'ExecutionStepRestartEvent', 'HealthChangedEvent', 'LogMessageEvent', 'ResourceInitFailureEvent', 'ResourceInitStartedEvent',
  'ResourceInitSuccessEvent', 'RunFailureEvent', 'RunStartEvent', 'RunEnqueuedEvent', 'RunDequeuedEvent', 'RunStartingEvent', 'RunCancelingEvent', 'RunCanceledEvent',
  'RunSuccessEvent', 'StepWorkerStartedEvent', 'StepWorkerStartingEvent', 'HandledOutputEvent', 'LoadedInputEvent', 'LogsCapturedEvent', 'ObjectStoreOperationEvent',
  'StepExpectationResultEvent', 'MaterializationEvent', 'ObservationEvent', 'FailedToMaterializeEvent', 'EngineEvent', 'HookCompletedEvent', 'HookSkippedEvent',
  'HookErroredEvent', 'AlertStartEvent', 'AlertSuccessEvent', 'AlertFailureEvent', 'AssetMaterializationPlannedEvent', 'AssetCheckEvaluationPlannedEvent', 'AssetCheckEvaluationEvent',
] as const;

/** The members Dagster 1.13.28 adds to `DagsterRunEvent` (the double answers them too). */
export const RUN_EVENT_TYPES_ADDED_IN_1_13 = ['RunSuspendedEvent', 'RunResumedEvent'] as const;

/** A member of `DagsterRunEvent` the fake stores as type name, message and step only. */
export type PlainEventType = Exclude<(typeof RUN_EVENT_TYPES)[number], 'ExecutionStepFailureEvent' | 'RunStartEvent' | 'RunFailureEvent' | 'EngineEvent'>;
/** Interface types and their fields. */
export const INTERFACES: Record<string, Record<string, string>> = {
  PipelineRuns: { results: '[Run!]!', count: 'Int' },
  PipelineRun: { id: 'ID!', runId: 'String!', status: 'RunStatus!', jobName: 'String!', pipelineName: 'String!', repositoryOrigin: 'RepositoryOrigin', tags: '[PipelineTag!]!', stepStats: '[RunStepStats!]!' },
  PipelineRunStepStats: { runId: 'String!', stepKey: 'String!', status: 'StepEventStatus', startTime: 'Float', endTime: 'Float' },
  Error: { message: 'String!' },
  PipelineRunNotFoundError: { runId: 'String!', message: 'String!' },
  MessageEvent: MESSAGE_EVENT,
  StepEvent: { stepKey: 'String', solidHandleID: 'String' },
  ErrorEvent: { error: 'PythonError' },
  RunEvent: { pipelineName: 'String!' },
  MarkerEvent: { markerStart: 'String', markerEnd: 'String' },
};
/** Union types and their members. */
export const UNIONS: Record<string, string[]> = {
  RunsOrError: ['Runs', 'InvalidPipelineRunsFilterError', 'PythonError'],
  RunOrError: ['Run', 'RunNotFoundError', 'PythonError'],
  EventConnectionOrError: ['EventConnection', 'RunNotFoundError', 'PythonError'],
  DagsterRunEvent: [...RUN_EVENT_TYPES, ...RUN_EVENT_TYPES_ADDED_IN_1_13],
};
/** Input types and their fields. */
export const INPUTS: Record<string, Record<string, string>> = {
  RunsFilter: { runIds: '[String]', pipelineName: 'String', tags: '[ExecutionTag!]', statuses: '[RunStatus!]', snapshotId: 'String', updatedAfter: 'Float', updatedBefore: 'Float', createdBefore: 'Float', createdAfter: 'Float', mode: 'String' },
  ExecutionTag: { key: 'String!', value: 'String!' },
};
/** Enum types and their values. */
export const ENUMS: Record<string, string[]> = {
  RunStatus: ['QUEUED', 'NOT_STARTED', 'MANAGED', 'STARTING', 'STARTED', 'SUCCESS', 'FAILURE', 'CANCELING', 'CANCELED'],
  StepEventStatus: ['SKIPPED', 'SUCCESS', 'FAILURE', 'IN_PROGRESS'],
  LogLevel: ['CRITICAL', 'ERROR', 'INFO', 'WARNING', 'DEBUG'],
  ErrorSource: ['FRAMEWORK_ERROR', 'USER_CODE_ERROR', 'UNEXPECTED_ERROR', 'INTERRUPT'],
  DagsterEventType: ['STEP_FAILURE', 'STEP_START', 'STEP_SUCCESS', 'STEP_UP_FOR_RETRY', 'RUN_START', 'RUN_FAILURE', 'ENGINE_EVENT'],
};
/** The built-in scalars. */
export const SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);
