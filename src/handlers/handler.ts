/**
 * The handler contract. A handler is one module, like an ESLint rule: its metadata, the
 * JSON Schema of its `config` (in schemas/handlers/<name>.schema.json) and its entry
 * points. The core knows nothing about what a handler runs.
 */
import type { AssetDef } from '../definitions/model.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import type { StepContainment } from '../execution/containment/step.js';
import type { CommandSpec, Launcher } from '../launchers/spec.js';

/** What a step will run, shown by `runner render` and `materialize --dry-run`. Secrets appear as `***`. */
export interface Rendered {
  /** The argv the step would run. */
  command: string[];
  /** Files the step writes before running (e.g. a workflow config), with masked content. */
  files?: Array<{ name: string; content: string }>;
  /** Environment variables the step adds (masked). */
  env?: Record<string, string>;
}

/** One preflight check's outcome. */
export interface CheckResult {
  /** What was checked, e.g. `openmetadata CLI found`. */
  name: string;
  ok: boolean;
  /** Why it failed, or what it found (a version). Never a secret value. */
  detail?: string;
  /** Keys of the assets whose steps this check guards. */
  keys?: string[];
}

/**
 * A line of a step's output. `partial` marks text that no newline followed: a piece of a
 * very long line (the next call continues it) or the end of output without a final newline.
 * `time` is when the line's source wrote it, when the source says (a pod log line's
 * RFC 3339 timestamp): the step log's index keeps it, so a re-attach resumes after it.
 */
export type StepLog = (line: string, stream?: 'stdout' | 'stderr', partial?: boolean, time?: string) => void;

export interface RenderContext<C> {
  asset: AssetDef;
  /** The config with `${env:..}`/`${var:..}` substituted and each `${secret:NAME}` replaced by `***`. */
  config: C;
  env: ResolvedEnvironment;
  projectDir: string;
}

export interface RunContext<C> {
  asset: AssetDef;
  /** The config with every reference substituted, secrets included: never log it unmasked. */
  config: C;
  env: ResolvedEnvironment;
  projectDir: string;
  runId: string;
  attempt: number;
  /** Aborted on timeout or cancel: the handler must terminate its whole process tree. */
  signal: AbortSignal;
  /** Appends a line to the step's log (masked by the caller). */
  log: StepLog;
  /** Replaces every known secret value (and its encodings) with `***`. */
  mask: (text: string) => string;
  /**
   * Values of the secrets named by the handler's {@link Handler.secretRefs} (resolved by
   * the executor, known to `mask`); absent when the handler declares none.
   */
  secrets?: Record<string, string>;
  /**
   * The attempt's process containment (its mark, cgroup and ledger entries): start every
   * process with `runStepProcess` (execution/step-process.ts), which ends all of them.
   */
  contain: StepContainment;
  /**
   * The environment a step's processes start from: the minimal set (PATH, HOME, locale,
   * TZ, proxies) and what `inherit_env` allows, never the runner's credentials or the
   * variables behind secrets the step does not name. The handler adds what its asset
   * declares (the `command` handler's `env:`).
   */
  stepEnv: Record<string, string>;
  /**
   * The environment's launcher when its steps do not run as local processes (Kubernetes):
   * the handler then builds its {@link Handler.spec} and asks the launcher to run it.
   * Absent (the default), the handler runs its local process as always.
   */
  launcher?: Launcher;
  /**
   * The environment of a process the handler starts for the runner's own work (an
   * installer, `docker kill`): step-env.ts childEnvironment of the definitions.
   */
  childEnv: Record<string, string>;
}

/** What a finished step reports. */
export interface StepResult {
  ok: boolean;
  exitCode?: number | null;
  /** The meaningful part of a failure, masked; not the whole log. */
  error?: string;
  /** Warnings of a successful step (e.g. errors listed in a summary of a run that passed). */
  warnings?: string[];
  /** Structured results (records processed, success %, ...), shown by `runner show`. */
  metadata?: Record<string, unknown>;
  /** The step still runs elsewhere (a Kubernetes Job) and was handed over to the next serve: it has no result yet. */
  handedOver?: boolean;
}

export interface PreflightContext<C> {
  assets: Array<{ asset: AssetDef; config: C }>;
  env: ResolvedEnvironment;
  projectDir: string;
  /** Resolves a secret by name (undefined when it cannot be resolved). */
  secret: (name: string) => Promise<string | undefined>;
  signal?: AbortSignal;
  /** The run these checks precede (absent in `runner check --online`): a handler may note what its steps need. */
  runId?: string;
  /** What a check's process of the runner's own starts from (an installer, `docker --version`): childEnvironment. */
  childEnv: Record<string, string>;
  /** What a check running the step's program starts from (`metadata --version`): a step's environment naming no secret. */
  stepEnv: Record<string, string>;
}

export interface Handler<C = Record<string, unknown>> {
  /** The name used in `handler:` of an asset. */
  name: string;
  /** One line for `runner list` and docs. */
  description: string;
  /** The JSON Schema of `config` (also referenced by schemas/pipeline.schema.json). */
  schema: object;
  render(ctx: RenderContext<C>): Rendered;
  /**
   * What a step runs, as data, for a launcher that runs it elsewhere (a Kubernetes Job),
   * and for `runner render --env` of such an environment. `secrets` are the values of the
   * handler's {@link secretRefs} (`***` when rendering). Throws with a plain message when
   * the step cannot be described.
   */
  spec?(ctx: RenderContext<C> & { secrets: Record<string, string> }): CommandSpec;
  run(ctx: RunContext<C>): Promise<StepResult>;
  /**
   * Values outside `config` whose `${secret:..}` references a step needs, e.g. the
   * environment's `openmetadata.jwt`. The executor resolves these secrets together with
   * the config's (the step fails before `run` when one cannot be resolved), adds their
   * values to the masker, and passes them to `run` in {@link RunContext.secrets}. Unlike
   * the config, these values are not substituted.
   */
  secretRefs?(asset: AssetDef, env: ResolvedEnvironment): unknown[];
  /** Checks before a run (once per run) and in `runner check --online`. */
  preflight?(ctx: PreflightContext<C>): Promise<CheckResult[]>;
  /**
   * Variables of the runner's environment the handler's program needs besides the
   * minimal set (names, or prefixes ending in `*`), like an `inherit_env` of every asset
   * of the handler. The runner's credentials and unnamed secrets' variables never pass.
   */
  inheritEnv?: readonly string[];
  /** Removes what a killed runner left behind (temporary files); called when materialize or serve starts. */
  recover?(): void;
}
