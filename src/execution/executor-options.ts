/** What the executor (executor.ts) is given to run a plan. */
import type { Handler } from '../handlers/handler.js';
import type { Launcher } from '../launchers/spec.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import type { EventSink } from './events.js';
import type { Plan } from './plan.js';
import type { PoolSlots, ProcessRecorder } from './pools.js';
import type { EnvPolicy } from './step-env.js';
import type { ResumeState } from './resumed-steps.js';

/** What the executor needs to run a plan. */
export interface ExecutorOptions {
  runId: string;
  plan: Plan;
  env: ResolvedEnvironment;
  projectDir: string;
  handler: (name: string) => Handler<any> | undefined;
  /** Where every event goes (a fan-out of storage, renderer, notifier). */
  sink: EventSink;
  /** Steps at once (at least 1). */
  concurrency: number;
  failFast?: boolean;
  /** Pool limits (runner.pools). */
  pools?: Record<string, number>;
  /** Pool slots shared across runs (the store); default: slots of this process only. */
  slots?: PoolSlots;
  /** Records child process groups so a later runner can reap them (the store). */
  processes?: ProcessRecorder;
  /** Aborting it cancels the run; a string reason (e.g. `SIGINT`) goes into messages. */
  signal?: AbortSignal;
  /** Masks secret values in every line and message (default: identity). */
  mask?: (text: string) => string;
  /**
   * Masks a piece of a long line (more of it to come): the masked part no secret
   * continues past and the raw rest to carry over (Masker.splitPiece). Without it, each
   * piece is masked alone.
   */
  maskPiece?: (text: string) => [masked: string, rest: string];
  /** Resolves the named secrets of a step (default: none resolves). */
  resolveSecrets?: (names: string[], signal: AbortSignal) => Promise<Record<string, string | undefined>>;
  /** The environment `${env:..}` reads (default process.env). */
  processEnv?: Record<string, string | undefined>;
  /** How often steps blocked on a pool held by other runs look again (ms). */
  poolPollMs?: number;
  /** For jitter; default Math.random. */
  random?: () => number;
  /** Where steps run when not as local processes (the environment's Kubernetes launcher); default: local. */
  launcher?: Launcher;
  /** Run the handlers' preflight checks first (default true); steps whose checks fail fail without running. */
  preflight?: boolean;
  /** The runner's credentials and the secrets' variables, kept out of steps' environments (see step-env.ts). */
  envPolicy?: EnvPolicy;
  /** Give steps a cgroup where one can be made (default true; the mark is always used). */
  cgroups?: boolean;
  /** Carrying on a run that a stopped serve handed over (launch.ts `resumeRun`). */
  resume?: ResumeState;
}
