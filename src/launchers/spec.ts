/**
 * The launcher seam: what a handler hands to its environment's launcher when the step does
 * not run as a local process. A handler describes the command (argv, image, environment,
 * files) as a {@link CommandSpec}; the launcher runs it somewhere else (a Kubernetes Job),
 * streams its lines into the step log and reports how it ended. Without a launcher (the
 * default), a handler runs its local process exactly as it always did.
 */
import type { AssetDef } from '../definitions/model.js';
import type { StepLog } from '../handlers/handler.js';

/** Where a spec's files are mounted in the step's container (read-only). */
export const SPEC_FILES_DIR = '/runner/files';

/** One command a step runs, as data. */
export interface CommandSpec {
  /** The program and its arguments (replaces the image's entrypoint). Never holds a secret. */
  argv: string[];
  /** The handler's default image (e.g. the OpenMetadata ingestion image); settings may override it. */
  image?: string;
  /** Plain environment variables (no secret values). */
  env: Record<string, string>;
  /** Environment variables whose values are secrets: they reach the container by reference only. */
  secretEnv: Record<string, string>;
  /** Files mounted under {@link SPEC_FILES_DIR}, read-only (they may hold secret values: they travel in a Secret). */
  files: Array<{ name: string; content: string }>;
  /** The working directory in the container, when the handler needs one. */
  workingDir?: string;
}

/** The step an attempt belongs to. */
export interface LaunchStep {
  runId: string;
  asset: AssetDef;
  attempt: number;
}

/** What a launcher needs to run one attempt. */
export interface LaunchContext extends LaunchStep {
  /**
   * Aborted on timeout or cancel: the launcher stops the command and waits until it is
   * gone. Aborted with a `ServeHandover` (execution/handover.ts): a launcher whose command
   * outlives this process lets go of it instead and answers `handedOver`.
   */
  signal: AbortSignal;
  /** The step log (masked by the caller). */
  log: StepLog;
  /** Called with every complete line of output as well (e.g. a handler's summary parser). */
  onLine?: (line: string) => void;
}

/** How a launched command ended. */
export interface LaunchResult {
  ok: boolean;
  exitCode?: number | null;
  /** Why it failed, in plain words (OOMKilled, evicted, image pull, deadline, unschedulable, exit code). */
  error?: string;
  /** Facts for `runner show` (the Job's and pod's names, the node). */
  metadata?: Record<string, unknown>;
  /**
   * The command still runs: serve is stopping (the signal's reason is a `ServeHandover`)
   * and the launcher let go of it without ending it; the next serve re-attaches.
   */
  handedOver?: boolean;
}

/** Runs command specs somewhere other than this process. */
export interface Launcher {
  /** `kubernetes`. */
  readonly name: string;
  /** Runs one attempt to its end; never rejects. */
  run(spec: CommandSpec, ctx: LaunchContext): Promise<LaunchResult>;
}
