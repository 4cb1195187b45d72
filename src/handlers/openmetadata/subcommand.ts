/**
 * Which `metadata` sub-command runs a workflow, from its `sourceConfig.config.type`
 * (OpenMetadata 1.10; sources in docs/openmetadata.md): metadata, lineage and dbt run with
 * `ingest`, usage with `usage`, the profiler with `profile`, test suites with `test`,
 * auto-classification with `classify`.
 */

/** Pipeline type → sub-command. */
export const SUBCOMMANDS: Readonly<Record<string, string>> = {
  DatabaseMetadata: 'ingest',
  DashboardMetadata: 'ingest',
  PipelineMetadata: 'ingest',
  StorageMetadata: 'ingest',
  MessagingMetadata: 'ingest',
  MlModelMetadata: 'ingest',
  SearchMetadata: 'ingest',
  ApiMetadata: 'ingest',
  DatabaseLineage: 'ingest',
  DBT: 'ingest',
  DatabaseUsage: 'usage',
  Profiler: 'profile',
  TestSuite: 'test',
  AutoClassification: 'classify',
};

/**
 * The properties only one pipeline type of the schema set has, used to recognise a
 * `sourceConfig.config` written without `type` (OpenMetadata's schema accepts it when
 * exactly one pipeline shape matches). Checked in order.
 */
const SHAPES: Array<[string, string[]]> = [
  ['DBT', ['dbtConfigSource', 'dbtUpdateDescriptions', 'dbtClassificationName']],
  ['Profiler', ['processPiiSensitive', 'confidence', 'generateSampleData', 'profileSample', 'profileSampleType', 'threadCount', 'timeoutSeconds']],
  ['DatabaseUsage', ['stageFileLocation', 'processQueryCostAnalysis']],
  ['DatabaseLineage', ['storedProcedureFilterPattern', 'overrideViewLineage', 'processViewLineage', 'processQueryLineage', 'processStoredProcedureLineage', 'processCrossDatabaseLineage', 'crossDatabaseServiceNames', 'enableTempTableLineage', 'incrementalLineageProcessing', 'parsingTimeoutLimit']],
  ['DashboardMetadata', ['lineageInformation', 'dashboardFilterPattern', 'chartFilterPattern', 'dataModelFilterPattern', 'projectFilterPattern', 'markDeletedDashboards', 'markDeletedDataModels', 'includeDataModels', 'includeDraftDashboard', 'overrideLineage']],
  ['PipelineMetadata', ['includeLineage', 'pipelineFilterPattern', 'markDeletedPipelines']],
  ['StorageMetadata', ['containerFilterPattern']],
  ['DatabaseMetadata', ['markDeletedTables', 'markDeletedStoredProcedures', 'includeTables', 'includeViews', 'includeStoredProcedures', 'includeDDL', 'queryParsingTimeoutLimit', 'useFqnForFiltering', 'incremental']],
];

/** The pipeline type of a source config: its `type`, else recognised by its properties. */
export function pipelineTypeOf(sourceConfig: unknown): string | undefined {
  if (!sourceConfig || typeof sourceConfig !== 'object' || Array.isArray(sourceConfig)) return undefined;
  const c = sourceConfig as Record<string, unknown>;
  if (typeof c.type === 'string') return c.type;
  for (const [type, props] of SHAPES) if (props.some((p) => p in c)) return type;
  return undefined;
}

/** The sub-command for a pipeline type; `ingest` when the type is unknown or absent (what the CLI docs default to). */
export function subcommandFor(pipelineType: string | undefined): string {
  return (pipelineType && SUBCOMMANDS[pipelineType]) || 'ingest';
}
