/**
 * The loaded definitions: what the pipeline files say, merged across files, checked,
 * with defaults applied and the position of every definition kept for messages.
 * Values are not interpolated here (see interpolate.ts): `${env:..}`, `${var:..}` and
 * `${secret:..}` stay as written until an environment is chosen.
 */
import type { Position } from '../diagnostics/diagnostic.js';
import type { AssetGraph } from '../graph/asset-graph.js';
import type { Asset, KubernetesSettings, OpenMetadataSettings, VaultAuth, VaultSettings } from './generated/pipeline-file.js';

export type ScheduleStatus = 'running' | 'stopped';

/** The most attempts a retry policy may have (`retry.attempts` in schemas/pipeline.schema.json; a test holds them equal). */
export const MAX_ATTEMPTS = 100;

/** Retry policy with durations in milliseconds. */
export interface RetryPolicy {
  attempts: number;
  backoff: 'fixed' | 'exponential';
  delayMs: number;
  maxDelayMs: number;
  jitter: boolean;
}

export interface AssetDef {
  key: string;
  description?: string;
  group: string;
  tags: Record<string, string>;
  kinds: string[];
  owners: string[];
  /** Upstream keys, normalised to the `/` form. */
  deps: string[];
  handler: string;
  config: Record<string, unknown>;
  retry?: RetryPolicy;
  timeoutMs?: number;
  pool?: string;
  /** Variables of the runner's environment its steps inherit besides the minimal set (`inherit_env`). */
  inheritEnv?: string[];
  /** Kubernetes settings of its steps (used in an environment with `kubernetes:`). */
  kubernetes?: AssetKubernetesDef;
  pos: Position;
  /** The position of `config` in its file (handler config errors point inside it). */
  configPath: Array<string | number>;
}

export interface JobDef {
  name: string;
  description?: string;
  select: string;
  tags: Record<string, string>;
  pos: Position;
}

export interface ScheduleDef {
  name: string;
  description?: string;
  cron: string;
  timezone: string;
  job?: string;
  select?: string;
  env?: string;
  defaultStatus: ScheduleStatus;
  overlap: 'skip' | 'queue';
  catchup: { policy: 'latest' | 'skip' | 'all'; max: number };
  pos: Position;
}

/** An environment's Vault login settings, as the schema defines them. */
export type VaultAuthDef = VaultAuth;

/** An environment's Vault settings, as the schema defines them. */
export type VaultSettingsDef = VaultSettings;

/** Where an environment's OpenMetadata CLI and server are, as the schema defines them. */
export type OpenMetadataSettingsDef = OpenMetadataSettings;

/** An environment's Kubernetes launcher settings, as the schema defines them. */
export type KubernetesSettingsDef = KubernetesSettings;

/** An asset's own Kubernetes settings, as the schema defines them. */
export type AssetKubernetesDef = NonNullable<Asset['kubernetes']>;

export interface EnvironmentDef {
  name: string;
  description?: string;
  /** Variables as written (may hold `${env:..}` references). */
  vars: Record<string, string>;
  vault?: VaultSettingsDef;
  openmetadata?: OpenMetadataSettingsDef;
  /** Variables of the runner's environment every step inherits besides the minimal set (`inherit_env`). */
  inheritEnv?: string[];
  kubernetes?: KubernetesSettingsDef;
  pos: Position;
}

export interface SecretDef {
  name: string;
  description?: string;
  env?: string;
  vault?: { mount: string; path: string; field: string; kv: 1 | 2 };
  pos: Position;
}

export type NotificationEvent = 'run_failure' | 'run_recovered';

export interface NotificationDef {
  name: string;
  description?: string;
  on: NotificationEvent[];
  slack: { webhook: string };
  pos: Position;
}

export interface WatcherDef {
  name: string;
  description?: string;
  dagster: { url: string; token?: string; cloud?: boolean };
  intervalMs: number;
  notify: string[];
  defaultStatus: ScheduleStatus;
  pos: Position;
}

export interface RunnerSettingsDef {
  concurrency: number;
  pools: Record<string, number>;
  retention: { runsMs: number };
}

/** Everything one pipelines directory defines. */
export interface Definitions {
  /** The pipelines directory, absolute. */
  dir: string;
  /** The project directory (the pipelines directory's parent): relative paths resolve against it. */
  projectDir: string;
  settings: RunnerSettingsDef;
  assets: Map<string, AssetDef>;
  graph: AssetGraph;
  jobs: Map<string, JobDef>;
  schedules: Map<string, ScheduleDef>;
  environments: Map<string, EnvironmentDef>;
  /** The environment named by `environments.default`, if any. */
  defaultEnv?: string;
  secrets: Map<string, SecretDef>;
  notifications: Map<string, NotificationDef>;
  watchers: Map<string, WatcherDef>;
}

/** The status words of a run and of a step, the same in storage, JSON, selections and the UI. */
export const RUN_STATUSES = ['queued', 'started', 'success', 'failure', 'canceled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const STEP_STATUSES = ['pending', 'running', 'success', 'failure', 'skipped', 'canceled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
