/**
 * The JSON the app reads (docs/api.md). Runs and steps are the store's own shapes; the
 * other documents are written out here as the API sends them.
 */
import type { AlertRecord, RunRecord, StepRecord, Trigger } from '../../storage/types.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';

export type { AlertRecord, RunRecord, StepRecord, Trigger, Diagnostic };

/** An asset as `runner list --json` prints it. */
export interface ListAsset {
  key: string;
  group: string;
  handler: string;
  deps: string[];
  description: string | null;
  tags: Record<string, string>;
  kinds: string[];
  owners: string[];
}

/** An asset's last finished step. */
export interface LastStep {
  run_id: string;
  status: string;
  attempts: number;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  exit_code: number | null;
  metadata: Record<string, unknown> | null;
  error: string | null;
}

/** `GET /api/assets`. */
export interface AssetsDoc {
  assets: Array<ListAsset & { last: LastStep | null; current: { run_id: string; status: string } | null }>;
}

/** `GET /api/graph` (`runner graph --format json`). */
export interface GraphDoc {
  nodes: Array<{ key: string; group: string; handler: string }>;
  edges: Array<{ from: string; to: string }>;
}

/** What a step runs (the handler's render, secrets as ***), or why it cannot be shown. */
export type RenderedDoc = { command: string[]; env?: Record<string, string>; files?: Array<{ name: string; content: string }> } | { error: string };

/** `GET /api/assets/KEY`. */
export interface AssetDoc {
  asset: ListAsset & {
    dependents: string[];
    retry: { attempts: number; backoff: string; delayMs: number } | null;
    timeout_ms: number | null;
    pool: string | null;
    file: string;
  };
  env: string | null;
  config: unknown;
  config_yaml: string;
  rendered: RenderedDoc;
  last: LastStep | null;
  runs: RunRecord[];
}

/** A tick time: the instant and the schedule's wall-clock time. */
export interface TickTime {
  time: string;
  local: string;
}

/** A recorded tick. */
export interface TickEntry extends TickTime {
  outcome: 'started' | 'skipped' | 'queued' | 'failed';
  run_id: string | null;
  run_status: string | null;
  reason: string | null;
}

/** A schedule as `runner schedule list --json` prints it. */
export interface ScheduleEntry {
  name: string;
  description?: string;
  status: 'running' | 'stopped';
  status_source: 'default' | 'set';
  status_changed_at: string | null;
  cron: string;
  timezone: string;
  job: string | null;
  select: string | null;
  env: string | null;
  overlap: string;
  catchup: { policy: string; max?: number };
  next_ticks: TickTime[];
  last_tick: TickEntry | null;
}

/** `GET /api/list` (`runner list --json`), the parts the app reads. */
export interface ListDoc {
  assets: ListAsset[];
  jobs: Array<{ name: string; description: string | null; select: string; assets: string[] }>;
}

/** `GET /api/plan`. */
export interface PlanDoc {
  selection: string;
  job: string | null;
  env: string;
  steps: Array<{ key: string; group: string; handler: string; upstream: string[] }>;
}

/** An error answer. */
export interface ErrorDoc {
  error: string;
  diagnostics?: Diagnostic[];
}
