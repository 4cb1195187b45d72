/**
 * Running one step: render the workflow, write it to a private directory, run the
 * `metadata` CLI (argv through execa, no shell, in the step's containment, the JWT in its
 * environment only), stream its lines to the step log while parsing the closing summary,
 * terminate the whole tree on abort, remove the directory whatever happens. The CLI's exit
 * status decides the step (the CLI applies the workflow's success threshold).
 */
import { execa } from 'execa';
import { outside } from '../../execution/containment/own-cgroup.js';
import type { RunContext, StepResult } from '../handler.js';
import type { OpenMetadataConfig } from './types.js';
import { resolveSettings, jwtValue } from './settings.js';
import { JWT_ENV, jwtIsExpandable, renderWorkflow, workflowYaml } from './render.js';
import { buildInvocation } from './invocation.js';
import { createWorkdir, removeWorkdir } from './workdir.js';
import { SummaryParser, summaryMetadata } from './summary.js';
import { OutputTail, failureMessage, summaryWarnings } from './failure.js';
import { readPathsOf } from './paths.js';
import { runStepProcess } from '../../execution/step-process.js';
import { readyCli } from './cli-tool.js';

/** How long the CLI's pipes are read after it exited, when something it started holds them. */
const LEFTOVER_GRACE_MS = 2_000;

/** Runs the asset's workflow; never rejects. */
export async function runWorkflow(ctx: RunContext<OpenMetadataConfig>): Promise<StepResult> {
  const settings = resolveSettings(ctx.env);
  if (!settings.ok) return { ok: false, error: settings.message };
  const jwt = jwtValue(settings.value, ctx.env, ctx.secrets ?? {});
  const secretName = settings.value.jwtSecrets[0] ?? 'openmetadata_jwt';
  if (jwt === undefined) return { ok: false, error: `the OpenMetadata JWT (secret \`${secretName}\`) was not resolved for this step` };
  if (!jwtIsExpandable(jwt)) return { ok: false, error: `the JWT from secret \`${secretName}\` holds characters a JWT cannot hold (whitespace, quotes, backslashes or \`$\`)` };

  const { workflow, pipelineType, subcommand } = renderWorkflow(ctx.config as unknown as Record<string, unknown>, settings.value.url);
  const header = ` Rendered by the runner for ${ctx.asset.key} (run ${ctx.runId}, attempt ${ctx.attempt}).\n The JWT comes from the environment variable ${JWT_ENV}, which the CLI expands.`;
  const what = `metadata ${subcommand}`;
  const meta: Record<string, unknown> = { command: what, pipeline_type: pipelineType ?? null };
  if (ctx.signal.aborted) return { ok: false, error: 'canceled before the CLI started', metadata: meta };
  // An environment with `install` gets its CLI from the runner's venv (installed the first time).
  const ready = await readyCli(settings.value, { runId: ctx.runId, projectDir: ctx.projectDir, config: ctx.config, log: (l) => ctx.log(l, 'stderr'), signal: ctx.signal, childEnv: ctx.childEnv });
  if (!ready.ok) return { ok: false, error: ctx.mask(ready.message), metadata: meta };
  const s = ready.value;

  let dir: string | undefined;
  try {
    dir = await createWorkdir(workflowYaml(workflow, header));
    const inv = buildInvocation(s, {
      workdir: dir,
      subcommand,
      readPaths: readPathsOf(ctx.config),
      nameSuffix: `${ctx.runId.slice(0, 8)}-${ctx.asset.key}-${ctx.attempt}`,
      url: s.url,
    });
    return await spawnCli(ctx, inv.argv, { ...inv.env, [JWT_ENV]: jwt, PYTHONUNBUFFERED: '1' }, what, meta, inv.container);
  } catch (err) {
    return { ok: false, error: ctx.mask(`${what}: ${err instanceof Error ? err.message : String(err)}`), metadata: meta };
  } finally {
    if (dir) await removeWorkdir(dir);
  }
}

async function spawnCli(
  ctx: RunContext<OpenMetadataConfig>,
  argv: string[],
  env: Record<string, string>,
  what: string,
  meta: Record<string, unknown>,
  container?: { engine: string; name: string },
): Promise<StepResult> {
  const parser = new SummaryParser();
  const tail = new OutputTail(ctx.mask);
  const result = await runStepProcess(argv[0]!, argv.slice(1), {
    contain: ctx.contain,
    signal: ctx.signal,
    env: { ...ctx.stepEnv, ...env },
    onLine: (line, stream, partial) => {
      ctx.log(line, stream);
      if (!partial) {
        parser.push(line);
        tail.push(line);
      }
    },
    // A container run goes with its step: `docker kill` it first.
    onAbort: container ? () => void outside(execa(container.engine, ['kill', container.name], { env: ctx.childEnv, extendEnv: false, reject: false, timeout: 10_000, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' })) : undefined,
    pipeGraceMs: LEFTOVER_GRACE_MS,
  });
  const aborted = result.aborted;
  const summary = parser.result();
  const metadata: Record<string, unknown> = { ...meta, ...(summary ? summaryMetadata(summary) : { summary_form: null }), exit_code: result.exitCode ?? null };
  if (result.startError) {
    // The program could not start (not found, not executable).
    const reason = result.startError.message;
    return { ok: false, exitCode: null, error: ctx.mask(`could not run \`${argv[0]}\`: ${reason}. Install openmetadata-ingestion (the server's major.minor) or set environments.<env>.openmetadata.cli / image`), metadata };
  }
  const ok = !aborted && result.exitCode === 0 && !result.signal;
  // `partial`: the CLI exited 0, but said `Workflow finished with failures` (a source failure)
  // or its summary counted errors (a sink's failures do not make it say so): errors above
  // the success threshold. Alert rules and `runner show` can tell it from a clean success.
  const counted = (summary?.steps ?? []).some((st) => (st.errors ?? 0) > 0);
  metadata.outcome = !ok ? 'failed' : summary?.outcome === 'failures' || counted ? 'partial' : 'success';
  if (ok) {
    const warnings = summaryWarnings(summary, ctx.mask);
    return { ok: true, exitCode: 0, metadata, ...(warnings.length > 0 ? { warnings } : {}) };
  }
  const message = failureMessage({ exitCode: result.exitCode, signal: result.signal ?? null, what }, tail, summary, ctx.mask);
  return { ok: false, exitCode: result.exitCode ?? null, error: ctx.mask(aborted ? `terminated; ${message}` : message), metadata };
}
