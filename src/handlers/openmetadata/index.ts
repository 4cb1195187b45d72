/**
 * The `openmetadata` handler: an asset is an OpenMetadata ingestion workflow run with the
 * `metadata` CLI. See docs/openmetadata.md.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Handler, RenderContext, Rendered } from '../handler.js';
import type { AssetDef } from '../../definitions/model.js';
import type { ResolvedEnvironment } from '../../definitions/environment.js';
import type { OpenMetadataConfig } from './types.js';
import schema from '../../../schemas/handlers/openmetadata.schema.json' with { type: 'json' };
import { DEFAULT_JWT, resolveSettings } from './settings.js';
import { JWT_ENV, renderWorkflow, workflowYaml } from './render.js';
import { buildInvocation } from './invocation.js';
import { WORKDIR_PREFIX, WORKFLOW_FILE } from './workdir.js';
import { runWorkflow } from './run.js';
import { preflightChecks } from './preflight.js';
import { readPathsOf } from './paths.js';
import { runWorkflowRemote, workflowSpec } from './remote.js';

import { cleanupStaleConfigs } from './workdir.js';
export { cleanupStaleConfigs };
export type { OpenMetadataConfig } from './types.js';

/** What `render` shows, for `runner render` and `materialize --dry-run`. */
export function renderStep(ctx: RenderContext<OpenMetadataConfig>): Rendered {
  const settings = resolveSettings(ctx.env);
  if (!settings.ok) throw new Error(settings.message);
  const s = settings.value;
  const { workflow, subcommand } = renderWorkflow(ctx.config as unknown as Record<string, unknown>, s.url);
  const workdir = path.join(tmpdir(), `${WORKDIR_PREFIX}<pid>-XXXXXX`);
  const inv = buildInvocation(s, { workdir, subcommand, readPaths: readPathsOf(ctx.config), nameSuffix: `<run>-${ctx.asset.key}-<attempt>`, url: s.url });
  const header = ` The JWT (${s.jwtRef}) reaches the CLI as environment variable ${JWT_ENV}; the CLI expands it.`;
  return {
    command: inv.argv,
    files: [{ name: WORKFLOW_FILE, content: workflowYaml(workflow, header) }],
    env: { [JWT_ENV]: '***', PYTHONUNBUFFERED: '1' },
  };
}

/** The handler. */
export const openmetadataHandler: Handler<OpenMetadataConfig> = {
  name: 'openmetadata',
  description: 'Runs an OpenMetadata ingestion workflow with the `metadata` CLI (ingest, profile, usage, ...).',
  schema,
  render: renderStep,
  run: (ctx) => (ctx.launcher ? runWorkflowRemote(ctx) : runWorkflow(ctx)),
  spec: (ctx) => workflowSpec(ctx),
  preflight: preflightChecks,
  recover: () => void cleanupStaleConfigs(),
  secretRefs(_asset: AssetDef, env: ResolvedEnvironment): unknown[] {
    return [env.openmetadata?.jwt ?? DEFAULT_JWT];
  },
};

export default openmetadataHandler;
