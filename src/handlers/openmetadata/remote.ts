/**
 * The `openmetadata` handler under a launcher (a Kubernetes Job): the `metadata` CLI in
 * the OpenMetadata ingestion image, the rendered workflow mounted read-only from the
 * step's Secret, the JWT in the container's environment by reference only. The summary
 * and failure message come from the streamed lines, as for a local CLI.
 */
import type { CheckResult, RenderContext, RunContext, StepResult } from '../handler.js';
import type { ResolvedEnvironment } from '../../definitions/environment.js';
import type { OpenMetadataConfig } from './types.js';
import { SPEC_FILES_DIR, type CommandSpec } from '../../launchers/spec.js';
import { jwtValue, resolveSettings } from './settings.js';
import { JWT_ENV, jwtIsExpandable, renderWorkflow, workflowYaml } from './render.js';
import { WORKFLOW_FILE } from './workdir.js';
import { imageVersion } from './invocation.js';
import { SummaryParser, summaryMetadata } from './summary.js';
import { OutputTail, failureMessage, summaryWarnings } from './failure.js';

/** OpenMetadata's ingestion image, without its tag. */
export const INGESTION_IMAGE = 'docker.getcollate.io/openmetadata/ingestion';
/** The CLI version the handler needs by default: the team's server line (test/peers/versions.json). */
export const DEFAULT_INGESTION_VERSION = '1.7.7';

/** The image a step runs in: `openmetadata.image`, else the ingestion image of the default version. */
export function ingestionImage(env: ResolvedEnvironment): string {
  return env.openmetadata?.image ?? `${INGESTION_IMAGE}:${DEFAULT_INGESTION_VERSION}`;
}

/** The spec of a workflow step; `secrets` holds the JWT's secrets (`***` when rendering). */
export function workflowSpec(ctx: RenderContext<OpenMetadataConfig> & { secrets: Record<string, string> }, header?: string): CommandSpec & { subcommand: string; pipelineType?: string } {
  const settings = resolveSettings(ctx.env);
  if (!settings.ok) throw new Error(settings.message);
  const s = settings.value;
  const jwt = jwtValue(s, ctx.env, ctx.secrets);
  if (jwt === undefined) throw new Error(`the OpenMetadata JWT (secret \`${s.jwtSecrets[0] ?? 'openmetadata_jwt'}\`) was not resolved for this step`);
  const { workflow, subcommand, pipelineType } = renderWorkflow(ctx.config as unknown as Record<string, unknown>, s.url);
  const head = header ?? ` The JWT (${s.jwtRef}) reaches the CLI as environment variable ${JWT_ENV}, from the step's Secret; the CLI expands it.`;
  return {
    argv: ['metadata', subcommand, '-c', `${SPEC_FILES_DIR}/${WORKFLOW_FILE}`],
    image: ingestionImage(ctx.env),
    env: { PYTHONUNBUFFERED: '1' },
    secretEnv: { [JWT_ENV]: jwt },
    files: [{ name: WORKFLOW_FILE, content: workflowYaml(workflow, head) }],
    subcommand,
    pipelineType,
  };
}

/** Runs a workflow step with the context's launcher; never rejects. */
export async function runWorkflowRemote(ctx: RunContext<OpenMetadataConfig>): Promise<StepResult> {
  let spec: ReturnType<typeof workflowSpec>;
  try {
    spec = workflowSpec({ ...ctx, secrets: ctx.secrets ?? {} }, ` Rendered by the runner for ${ctx.asset.key} (run ${ctx.runId}, attempt ${ctx.attempt}).\n The JWT comes from the environment variable ${JWT_ENV}, which the CLI expands.`);
  } catch (err) {
    return { ok: false, error: ctx.mask(err instanceof Error ? err.message : String(err)) };
  }
  if (!jwtIsExpandable(spec.secretEnv[JWT_ENV]!)) return { ok: false, error: 'the JWT holds characters a JWT cannot hold (whitespace, quotes, backslashes or `$`)' };
  const what = `metadata ${spec.subcommand}`;
  const parser = new SummaryParser();
  const tail = new OutputTail();
  const r = await ctx.launcher!.run(spec, {
    runId: ctx.runId,
    asset: ctx.asset,
    attempt: ctx.attempt,
    signal: ctx.signal,
    log: ctx.log,
    onLine: (line) => {
      parser.push(line);
      tail.push(line);
    },
  });
  const summary = parser.result();
  const metadata = { command: what, pipeline_type: spec.pipelineType ?? null, ...(summary ? summaryMetadata(summary) : { summary_form: null }), exit_code: r.exitCode ?? null, ...(r.metadata ?? {}) };
  if (r.handedOver) return { ok: false, handedOver: true, metadata };
  if (r.ok) {
    const warnings = summaryWarnings(summary).map(ctx.mask);
    return { ok: true, exitCode: 0, metadata, ...(warnings.length > 0 ? { warnings } : {}) };
  }
  // A pod that never ran the CLI (OOMKilled, evicted, unschedulable) says so first.
  const cli = r.exitCode !== undefined && r.exitCode !== null ? failureMessage({ exitCode: r.exitCode, signal: null, what }, tail, summary) : undefined;
  const error = r.error && cli && !r.error.startsWith('exit code') ? `${r.error}\n${cli}` : (cli ?? r.error ?? 'failed');
  return { ok: false, exitCode: r.exitCode ?? null, error: ctx.mask(error), metadata };
}

/** The preflight row of the CLI when steps run in the cluster: the image and the version it names. */
export function kubernetesCliRow(env: ResolvedEnvironment): { row: CheckResult; version?: string } {
  const image = ingestionImage(env);
  const version = imageVersion(image);
  return { row: { name: 'openmetadata CLI', ok: true, detail: `Kubernetes Jobs with image ${image}${version ? ` (metadata ${version})` : ': names no version, the versions are not compared'}` }, version };
}
