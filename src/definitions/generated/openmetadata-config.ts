/* Generated from schemas/ by `npm run gen` (json-schema-to-typescript). Do not edit. */

/**
 * The `openmetadata` handler: an OpenMetadata ingestion workflow. The runner adds the sink and the server connection.
 */
export interface OpenMetadataConfig {
  /**
   * The workflow's `source`: connector type, service name, connection and pipeline configuration.
   */
  source: {};
  /**
   * The workflow's `processor` (profiling: `orm-profiler`).
   */
  processor?: {};
  /**
   * Overrides of the workflow's `workflowConfig` (e.g. `loggerLevel`); the server connection is set by the runner.
   */
  workflowConfig?: {};
}
