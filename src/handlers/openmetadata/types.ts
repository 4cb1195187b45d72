/**
 * The `openmetadata` handler's config, as schemas/handlers/openmetadata.schema.json
 * describes it: the parts of an OpenMetadata ingestion workflow that belong to the asset.
 * The schema is the source of truth; these types name only what the handler reads.
 */

/** A workflow component (`processor`, `stage`, `bulkSink`). */
export interface OmComponent {
  type: string;
  config?: Record<string, unknown>;
}

/** The workflow's `source`. */
export interface OmSource {
  type: string;
  serviceName: string;
  serviceConnection?: { config?: Record<string, unknown> };
  sourceConfig: { config?: Record<string, unknown> };
}

/** An asset's config for the `openmetadata` handler. */
export interface OpenMetadataConfig {
  source: OmSource;
  processor?: OmComponent;
  stage?: OmComponent;
  bulkSink?: OmComponent;
  workflowConfig?: { loggerLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'; config?: Record<string, unknown> };
}

/** A complete ingestion workflow, as the `metadata` CLI reads it. */
export type Workflow = Record<string, unknown>;
