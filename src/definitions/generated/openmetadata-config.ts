/* Generated from schemas/ by `npm run gen` (json-schema-to-typescript). Do not edit. */

/**
 * The `openmetadata` handler: an OpenMetadata ingestion workflow for the connectors in use (Trino, Iceberg, dbt, Dagster, Airbyte, Superset, Redash, S3), checked as OpenMetadata 1.10's schemas check it. The runner adds `sink: metadata-rest` and `workflowConfig.openMetadataServerConfig` (server URL and JWT from the environment).
 */
export type OpenMetadataConfig = {
  source: Source;
  processor?: Component;
  stage?: Component1;
  bulkSink?: Component2;
  /**
   * Overrides of `workflowConfig`; the server connection comes from the environment.
   */
  workflowConfig?: {
    /**
     * Log level of the CLI: `DEBUG`, `INFO` (default), `WARN` or `ERROR`.
     */
    loggerLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
    /**
     * Extra workflow settings.
     */
    config?: {};
    /**
     * Set by the runner from the environment (`openmetadata.url`, `openmetadata.jwt`): not allowed here.
     */
    openMetadataServerConfig?: {
      [k: string]: unknown;
    };
  };
  /**
   * Set by the runner (`metadata-rest`): not allowed here.
   */
  sink?: {
    [k: string]: unknown;
  };
};
/**
 * The connector and its settings, chosen by `type`.
 */
export type ConnectionConfig = {
  /**
   * The connector: `Trino`, `Iceberg`, `Redash`, `Superset`, `Airbyte`, `Dagster` or `S3`.
   */
  type?: 'Trino' | 'Iceberg' | 'Redash' | 'Superset' | 'Airbyte' | 'Dagster' | 'S3';
};
/**
 * The pipeline: its `type` and options. `type` decides the CLI sub-command.
 */
export type PipelineConfig = {
  /**
   * The pipeline type: `DatabaseMetadata`, `DatabaseLineage`, `DatabaseUsage`, `Profiler`, `DBT`, `DashboardMetadata`, `PipelineMetadata` or `StorageMetadata`.
   */
  type?:
    | 'DatabaseMetadata'
    | 'DatabaseUsage'
    | 'DatabaseLineage'
    | 'DashboardMetadata'
    | 'Profiler'
    | 'PipelineMetadata'
    | 'StorageMetadata'
    | 'DBT';
};

/**
 * The workflow's `source`: connector, service name, connection and pipeline.
 */
export interface Source {
  /**
   * The source connector: the connector's name (`trino`, `dagster`, ...), `<connector>-lineage` for lineage, `<connector>-usage` for usage, `dbt` for dbt.
   */
  type: string;
  /**
   * The OpenMetadata service name (for dbt: the database service the models live in).
   */
  serviceName: string;
  serviceConnection?: ServiceConnection;
  /**
   * The pipeline configuration.
   */
  sourceConfig: {
    config?: PipelineConfig;
  };
}
/**
 * How OpenMetadata reaches the source. May be left out when the service already exists in OpenMetadata (its stored connection is used).
 */
export interface ServiceConnection {
  config: ConnectionConfig;
}
/**
 * The `processor`: `{type: orm-profiler, config: {}}` for a Profiler (required there); `query-parser` for usage (the default).
 */
export interface Component {
  /**
   * The component type.
   */
  type: string;
  /**
   * Its settings.
   */
  config?: {};
}
/**
 * The `stage` of a usage workflow (default `table-usage` with the stage file location).
 */
export interface Component1 {
  /**
   * The component type.
   */
  type: string;
  /**
   * Its settings.
   */
  config?: {};
}
/**
 * The `bulkSink` of a usage workflow (default `metadata-usage`).
 */
export interface Component2 {
  /**
   * The component type.
   */
  type: string;
  /**
   * Its settings.
   */
  config?: {};
}
