/**
 * Rendering: the complete ingestion workflow from an asset's config. The asset gives
 * `source` (and `processor` for profiling, optionally `stage`/`bulkSink` and
 * `workflowConfig` overrides); the handler adds the sink (`metadata-rest`, or for usage the
 * `query-parser` → `table-usage` → `metadata-usage` chain) and the server connection.
 *
 * The JWT is never written into the file: `jwtToken` is `${RUNNER_OPENMETADATA_JWT}`,
 * which the `metadata` CLI expands from its environment when it loads the file
 * (`load_config_file` runs `os.path.expandvars` on the text), so the value reaches the CLI
 * only through the environment of its own process.
 */
import YAML from 'yaml';
import type { Workflow } from './types.js';
import { pipelineTypeOf, subcommandFor } from './subcommand.js';

/** The environment variable that carries the JWT to the CLI. */
export const JWT_ENV = 'RUNNER_OPENMETADATA_JWT';
/** What `jwtToken` holds in the rendered file. */
export const JWT_PLACEHOLDER = '${' + JWT_ENV + '}';
/** OpenMetadata's default stage directory of a usage workflow. */
export const DEFAULT_STAGE_LOCATION = '/tmp/query_log';

/** What the handler knows about a rendered workflow. */
export interface RenderedWorkflow {
  workflow: Workflow;
  /** `sourceConfig.config.type`, or the type recognised from the config's shape. */
  pipelineType?: string;
  /** The `metadata` sub-command. */
  subcommand: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The full workflow for `config` (any shape: a config the schema would reject renders too,
 * unchanged where it is wrong, so that OpenMetadata's own schema can judge it).
 * `jwtToken` is the value written into `securityConfig.jwtToken`: {@link JWT_PLACEHOLDER}
 * when running.
 */
export function renderWorkflow(config: Record<string, unknown>, url: string, jwtToken: string = JWT_PLACEHOLDER): RenderedWorkflow {
  const source = config.source;
  const sourceConfig = isObject(source) && isObject(source.sourceConfig) ? source.sourceConfig.config : undefined;
  const pipelineType = pipelineTypeOf(sourceConfig);
  const out: Workflow = {};
  for (const [k, v] of Object.entries(config)) if (k !== 'workflowConfig') out[k] = v;
  if (pipelineType === 'DatabaseUsage') {
    // Usage runs source → query-parser → table-usage stage → metadata-usage bulk sink.
    const stageDir = isObject(sourceConfig) && typeof sourceConfig.stageFileLocation === 'string' ? sourceConfig.stageFileLocation : DEFAULT_STAGE_LOCATION;
    out.processor ??= { type: 'query-parser', config: {} };
    out.stage ??= { type: 'table-usage', config: { filename: stageDir } };
    out.bulkSink ??= { type: 'metadata-usage', config: { filename: stageDir } };
  } else {
    out.sink = { type: 'metadata-rest', config: {} };
  }
  const wc = config.workflowConfig;
  if (wc === undefined || isObject(wc)) {
    out.workflowConfig = {
      loggerLevel: 'INFO',
      ...(wc ?? {}),
      openMetadataServerConfig: { hostPort: url, authProvider: 'openmetadata', securityConfig: { jwtToken } },
    };
  } else {
    out.workflowConfig = wc; // not a mapping: left for the schema to reject
  }
  return { workflow: orderKeys(out), pipelineType, subcommand: subcommandFor(pipelineType) };
}

const ORDER = ['source', 'processor', 'stage', 'sink', 'bulkSink', 'workflowConfig'];

/** The workflow's sections in the order OpenMetadata's docs write them. */
function orderKeys(w: Workflow): Workflow {
  const out: Workflow = {};
  for (const k of ORDER) if (k in w) out[k] = w[k];
  for (const [k, v] of Object.entries(w)) if (!(k in out)) out[k] = v;
  return out;
}

/**
 * The workflow as YAML, the way it is written to the CLI's config file. `jwtToken` is
 * double-quoted so that the expanded token stays one scalar whatever it holds.
 */
export function workflowYaml(workflow: Workflow, header?: string): string {
  const doc = new YAML.Document(workflow);
  const jwt = doc.getIn(['workflowConfig', 'openMetadataServerConfig', 'securityConfig', 'jwtToken'], true);
  if (YAML.isScalar(jwt)) jwt.type = 'QUOTE_DOUBLE';
  if (header) doc.commentBefore = header;
  return doc.toString({ lineWidth: 0 });
}

/**
 * Whether a JWT can be expanded into a double-quoted YAML scalar unchanged: printable
 * ASCII without quotes or backslashes (a JWT is base64url segments joined by dots).
 */
export function jwtIsExpandable(jwt: string): boolean {
  return /^[\x21-\x7e]+$/.test(jwt) && !/["\\$]/.test(jwt);
}
