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
import { plannedCli } from './cli-tool.js';
import { runShared } from './shared-run.js';
import { runWorkflowRemote, workflowSpec } from './remote.js';

import { cleanupStaleConfigs } from './workdir.js';
export { cleanupStaleConfigs };
export type { OpenMetadataConfig } from './types.js';

/** What `render` shows, for `runner render` and `materialize --dry-run`. */
export function renderStep(ctx: RenderContext<OpenMetadataConfig>): Rendered {
  const settings = resolveSettings(ctx.env);
  if (!settings.ok) throw new Error(settings.message);
  // An installed CLI shows as the venv's executable (installed or not yet): render installs nothing.
  const s = plannedCli(settings.value, ctx.projectDir, ctx.config);
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

/**
 * What the `metadata` CLI needs of the runner's environment besides the minimal set: its
 * Python (virtualenv, pyenv, conda), the trust store for TLS to the server and the
 * sources, and a container engine's socket and config for `image:` runs.
 */
export const CLI_ENV: readonly string[] = [
  'PYTHONPATH', 'PYTHONHOME', 'PYTHONIOENCODING', 'PYTHONWARNINGS', 'VIRTUAL_ENV', 'CONDA_PREFIX', 'CONDA_DEFAULT_ENV', 'PYENV_ROOT', 'PYENV_VERSION', 'UV_*',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE',
  'DOCKER_HOST', 'DOCKER_CONFIG', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'CONTAINER_HOST', 'XDG_RUNTIME_DIR', 'USER', 'LOGNAME',
];

/** The handler. */
export const openmetadataHandler: Handler<OpenMetadataConfig> = {
  name: 'openmetadata',
  description: 'Runs an OpenMetadata ingestion workflow with the `metadata` CLI (ingest, profile, usage, ...).',
  schema,
  render: renderStep,
  // Assets of one run with the very same workflow share one CLI run (shared-run.ts); a launcher runs it elsewhere.
  run: (ctx) => (ctx.launcher ? runWorkflowRemote(ctx) : runShared(ctx, runWorkflow)),
  spec: (ctx) => workflowSpec(ctx),
  preflight: preflightChecks,
  recover: () => void cleanupStaleConfigs(),
  inheritEnv: CLI_ENV,
  secretRefs(_asset: AssetDef, env: ResolvedEnvironment): unknown[] {
    return [env.openmetadata?.jwt ?? DEFAULT_JWT];
  },
};

export default openmetadataHandler;
