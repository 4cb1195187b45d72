/* Generated from schemas/ by `npm run gen` (json-schema-to-typescript). Do not edit. */

/**
 * A duration: a number followed by a unit, `ms`, `s`, `m`, `h` or `d` (e.g. `30s`, `2h`, `90d`), at most `3650d`.
 */
export type Duration = string;
/**
 * An asset: something the runner materializes with a handler.
 */
export type Asset = {
  /**
   * The asset's unique key, a `/` path such as `openmetadata/trino/metadata`.
   */
  key: AssetKey;
  /**
   * What this asset is, for people.
   */
  description?: string;
  /**
   * The asset's group (selected with `group:NAME`; default `default`).
   */
  group?: Name;
  /**
   * Tags, name to value (selected with `tag:NAME` or `tag:NAME=VALUE`).
   */
  tags?: {
    /**
     * The tag's value.
     */
    [k: string]: string;
  };
  /**
   * Technologies this asset involves, e.g. `trino` (selected with `kind:NAME`).
   *
   * Items: A kind.
   */
  kinds?: string[];
  /**
   * Who owns the asset: e-mail addresses or team names (selected with `owner:NAME`).
   *
   * Items: An owner.
   */
  owners?: string[];
  /**
   * Keys of the assets this one depends on: they run first, and their failure skips this one. The legacy `__` form is accepted.
   *
   * Items: An upstream asset key.
   */
  deps?: string[];
  /**
   * What runs the asset: `command` (a program) or `openmetadata` (an OpenMetadata ingestion workflow).
   */
  handler: string;
  /**
   * The handler's configuration, validated by the handler's own schema.
   */
  config?: {};
  retry?: RetryPolicy;
  /**
   * A step that runs longer than this is terminated (its whole process tree) and fails.
   */
  timeout?: Duration;
  inherit_env?: InheritEnv;
  /**
   * The named pool (see `runner.pools`) that limits how many such steps run at once.
   */
  pool?: Name;
  /**
   * Kubernetes settings of this asset's steps, over its environment's and its pool's (only used in an environment with `kubernetes:`).
   */
  kubernetes?: {
    resources?: KubernetesResources;
    /**
     * The container image of this asset's steps (over the environment's `kubernetes.image` and the handler's default).
     */
    image?: string;
  };
};
/**
 * An asset key: segments of letters, digits, `_`, `.` and `-` joined by `/` (e.g. `openmetadata/trino/metadata`). A segment may not contain `__`: the legacy form `openmetadata__trino__metadata` names the same key.
 */
export type AssetKey = string;
/**
 * A name: letters, digits, `_` and `-`, starting with a letter.
 */
export type Name = string;
/**
 * Variables of the runner's environment that steps inherit besides the minimal set (`PATH`, `HOME`, `TMPDIR`, locale, `TZ`, proxies): names, or prefixes ending in `*` (e.g. `AWS_*`). `VAULT_*`, the runner's own credentials and the variables behind secrets a step does not name are never inherited.
 */
export type InheritEnv = string[];
/**
 * A Kubernetes quantity, e.g. `500m`, `2`, `4Gi`.
 */
export type KubernetesQuantity = string | number;
/**
 * A schedule: runs a job or a selection at the times a cron expression gives.
 */
export type Schedule = {
  /**
   * The schedule's unique name.
   */
  name: Name;
  /**
   * What the schedule is for.
   */
  description?: string;
  /**
   * A cron expression of five fields (minute hour day month weekday), or six with a leading seconds field, as croner reads it.
   */
  cron: string;
  /**
   * The IANA time zone the cron expression is read in (default `UTC`), e.g. `America/New_York`.
   */
  timezone?: string;
  /**
   * The job to run at each tick.
   */
  job?: Name;
  /**
   * A selection expression to run at each tick (instead of a job).
   */
  select?: string;
  /**
   * The environment its runs use (default: the one `runner serve` was started with).
   */
  env?: Name;
  /**
   * Whether the schedule ticks before anyone starts or stops it (`runner schedule start|stop`). Default `stopped`.
   */
  default_status?: 'running' | 'stopped';
  /**
   * What a tick does while the schedule's previous run still runs: `skip` it (default, recorded with the reason) or `queue` it until that run ends.
   */
  overlap?: 'skip' | 'queue';
  /**
   * What `runner serve` does with ticks missed while it was down.
   */
  catchup?: {
    /**
     * `latest` runs the most recent missed tick once (default), `skip` runs none, `all` runs each missed tick, up to `max`.
     */
    policy?: 'latest' | 'skip' | 'all';
    /**
     * With `all`, the most missed ticks that are run (the most recent ones; default 5).
     */
    max?: number;
  };
} & Schedule1;
export type Schedule1 = {
  [k: string]: unknown;
};
/**
 * How this environment runs OpenMetadata ingestion: the server workflows send to, the token, and where the `metadata` CLI lives (a command, or a container image).
 */
export type OpenMetadataSettings = {
  /**
   * The OpenMetadata server's API URL that workflows send to (default `${var:openmetadata_url}`), e.g. `http://localhost:8585/api`.
   */
  url?: string;
  /**
   * The bot's JWT, as a secret reference (default `${secret:openmetadata_jwt}`).
   */
  jwt?: string;
  /**
   * The argv that runs the `metadata` CLI (default `[metadata]` on PATH), e.g. `[uv, run, metadata]` or a virtualenv's binary.
   *
   * @minItems 1
   *
   * Items: One argument.
   */
  cli?: [string, ...string[]];
  /**
   * Run the CLI in this container image instead, e.g. `openmetadata/ingestion:1.10.4`.
   */
  image?: string;
  /**
   * The container engine that runs `image` (default `docker`; `podman` works too).
   */
  engine?: string;
  install?: OpenMetadataInstall;
};
/**
 * A secret's sources, tried in order: the environment variable, then Vault. It fails only when none yields a value.
 */
export type Secret = Secret1 & {
  /**
   * What the secret is for.
   */
  description?: string;
  /**
   * An environment variable that, when set, is the secret's value (local runs need no Vault).
   */
  env?: string;
  /**
   * Where the secret is in Vault's KV store.
   */
  vault?: {
    /**
     * The KV engine's mount, e.g. `secret-data`.
     */
    mount: string;
    /**
     * The secret's path under the mount, e.g. `dagster/openmetadata`.
     */
    path: string;
    /**
     * The field of the secret that holds the value, e.g. `jwt_token`.
     */
    field: string;
    /**
     * The KV engine's version, 1 or 2 (default 1).
     */
    kv?: 1 | 2;
  };
};
export type Secret1 = {
  [k: string]: unknown;
};

/**
 * One file of a runner pipelines directory. Every *.yaml file under the directory has this format; every section is optional and sections of all files are merged.
 */
export interface PipelineFile {
  runner?: RunnerSettings;
  /**
   * Assets: things the runner materializes, each with a handler that knows how.
   */
  assets?: Asset[];
  /**
   * Jobs: named selections of assets, run together.
   */
  jobs?: Job[];
  /**
   * Schedules: cron-driven runs of a job or a selection, ticked by `runner serve`.
   */
  schedules?: Schedule[];
  environments?: Environments;
  /**
   * Secrets by name. A value references one as `${secret:NAME}`; it is resolved only when a selected step needs it and is masked in every output.
   */
  secrets?: {
    [k: string]: Secret;
  };
  /**
   * Where run failures (and recoveries) are announced.
   */
  notifications?: Notification[];
  /**
   * Other systems that `runner serve` polls for failed runs, to send the same alerts for pipelines that do not run in the runner.
   */
  watchers?: Watcher[];
}
/**
 * Settings of this pipelines directory. When several files set the same setting, the loader reports a conflict.
 */
export interface RunnerSettings {
  /**
   * How many steps of one run may execute at once (default 4). `--concurrency` overrides it.
   */
  concurrency?: number;
  /**
   * Named concurrency limits: at most this many steps of a pool execute at once, across all runs that share one RUNNER_HOME.
   */
  pools?: {
    /**
     * The pool's limit.
     */
    [k: string]: number;
  };
  /**
   * How long run history is kept; `runner gc` and `runner serve` delete what is older.
   */
  retention?: {
    /**
     * Runs, their events and log files older than this are deleted (default 90d).
     */
    runs?: Duration;
  };
}
/**
 * How a failed step is retried.
 */
export interface RetryPolicy {
  /**
   * How many attempts in all, the first one included (1 means no retry).
   */
  attempts: number;
  /**
   * `fixed` waits `delay` between attempts; `exponential` doubles it after each attempt (up to `max_delay`).
   */
  backoff?: 'fixed' | 'exponential';
  /**
   * The wait before the second attempt (default 10s).
   */
  delay?: Duration;
  /**
   * The longest wait between attempts with exponential backoff (default 1h).
   */
  max_delay?: Duration;
  /**
   * Randomize each wait by up to ±20% so that retries of many steps do not line up (default true).
   */
  jitter?: boolean;
}
/**
 * Compute resources of a step's container (requests and limits), e.g. `{requests: {cpu: 500m, memory: 1Gi}, limits: {memory: 4Gi}}`. Set keys replace the same keys of the level below: environment, then pool, then asset.
 */
export interface KubernetesResources {
  /**
   * What the scheduler reserves for the container, by resource name (`cpu`, `memory`, `ephemeral-storage`).
   */
  requests?: {
    [k: string]: KubernetesQuantity;
  };
  /**
   * The most the container may use, by resource name; a container over its memory limit is OOMKilled.
   */
  limits?: {
    [k: string]: KubernetesQuantity;
  };
}
/**
 * A job: a named selection of assets.
 */
export interface Job {
  /**
   * The job's unique name (`--job NAME`, `job:NAME` in selections).
   */
  name: Name;
  /**
   * What the job is for.
   */
  description?: string;
  /**
   * The selection expression that picks the job's assets, e.g. `group:openmetadata`.
   */
  select: string;
  /**
   * Tags of the job, name to value, copied onto its runs.
   */
  tags?: {
    /**
     * The tag's value.
     */
    [k: string]: string;
  };
}
/**
 * Named environments (e.g. dev, qa, production). One is chosen by `--env`, else RUNNER_ENV, else DAGSTER_ENV, else `default`.
 */
export interface Environments {
  /**
   * The environment used when none is chosen.
   */
  default?: Name;
  [k: string]: Environment | Name | undefined;
}
/**
 * One environment: its variables and how it reaches Vault, the OpenMetadata CLI and (optionally) Kubernetes.
 */
export interface Environment {
  /**
   * What this environment is.
   */
  description?: string;
  /**
   * Variables, referenced as `${var:NAME}`. Values may use `${env:NAME}` and `${env:NAME:-default}`.
   */
  vars?: {
    /**
     * The variable's value.
     */
    [k: string]: string | number | boolean;
  };
  vault?: VaultSettings;
  openmetadata?: OpenMetadataSettings;
  inherit_env?: InheritEnv;
  kubernetes?: KubernetesSettings;
}
/**
 * How this environment reaches HashiCorp Vault.
 */
export interface VaultSettings {
  /**
   * Vault's address, e.g. `${env:VAULT_ADDR}`.
   */
  address: string;
  /**
   * The Vault Enterprise namespace, if any.
   */
  namespace?: string;
  /**
   * How long one request to Vault may take (default 10s).
   */
  timeout?: Duration;
  auth?: VaultAuth;
}
/**
 * How the runner logs in to Vault.
 */
export interface VaultAuth {
  /**
   * `token` (VAULT_TOKEN, else ~/.vault-token), `kubernetes` (the pod's service-account token) or `approle`.
   */
  method: 'token' | 'kubernetes' | 'approle';
  /**
   * The Kubernetes auth role (e.g. `${env:DAGSTER_VAULT_ROLE:-dagster}`).
   */
  role?: string;
  /**
   * The auth method's mount path (e.g. `k8s-data` or `approle`).
   */
  mount?: string;
  /**
   * Kubernetes: the service-account token file (default /var/run/secrets/kubernetes.io/serviceaccount/token).
   */
  token_path?: string;
  /**
   * AppRole: the role id (not a secret).
   */
  role_id?: string;
  /**
   * AppRole: the environment variable that holds the secret id (default VAULT_SECRET_ID).
   */
  secret_id_env?: string;
}
/**
 * The runner installs the `metadata` CLI itself: a virtual environment per version and plugin set under RUNNER_HOME/tools/, with the plugins (pip extras) of the connectors the selected assets use (see docs/openmetadata.md). Not with `cli` or `image`.
 */
export interface OpenMetadataInstall {
  /**
   * A version spec: a release (`1.7.7.4`), a wildcard (`1.7.*`, the newest matching release) or `server` (the server's major.minor, asked before the run).
   */
  version: string;
  /**
   * Extra plugins (pip extras of openmetadata-ingestion) to install besides those of the connectors in use, e.g. `[datalake-s3]`.
   *
   * Items: A plugin: a pip extra name such as `trino` or `datalake-s3`.
   */
  plugins?: string[];
}
/**
 * Run this environment's steps as Kubernetes Jobs, one per step attempt, instead of local processes. The runner stays the coordinator (its store, retries, alerts); the cluster runs the steps. See docs/kubernetes.md.
 */
export interface KubernetesSettings {
  /**
   * The namespace the Jobs run in (default: the runner's own namespace in a cluster, else the kubeconfig context's, else `default`).
   */
  namespace?: string;
  /**
   * The kubeconfig context to use (default: the current one). Ignored in a cluster, where the pod's service account is used.
   */
  context?: string;
  /**
   * The container image of `command` assets (their program must be in it). The `openmetadata` handler uses `openmetadata.image`, else the ingestion image of its CLI version.
   */
  image?: string;
  /**
   * When the kubelet pulls the image (default: Kubernetes' own default for the tag).
   */
  image_pull_policy?: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * The service account the step pods run as (default: the namespace's `default`).
   */
  service_account?: string;
  /**
   * The group the step pods' volumes belong to (`securityContext.fsGroup`): the kubelet gives it read access to the mounted step files (mode 0400), so an image whose user is not root can read them.
   */
  fs_group?: number;
  resources?: KubernetesResources;
  /**
   * Resources per pool (`runner.pools`): applied to the steps of assets in that pool, over the environment's.
   */
  pools?: {
    /**
     * A pool's settings.
     */
    [k: string]: {
      resources?: KubernetesResources;
    };
  };
  /**
   * Node labels a step's pod must run on, e.g. `{workload: ingestion}`.
   */
  node_selector?: {
    /**
     * The label's value.
     */
    [k: string]: string;
  };
  /**
   * Taints the step pods tolerate.
   */
  tolerations?: KubernetesToleration[];
  /**
   * Names of Secrets (in the namespace) that hold the registry credentials for the images.
   *
   * Items: A Secret's name.
   */
  image_pull_secrets?: string[];
  /**
   * Labels added to every Job and pod (the runner adds its own: run id, asset key, attempt).
   */
  labels?: {
    /**
     * The label's value.
     */
    [k: string]: string;
  };
  /**
   * How long a finished Job (and its pod, logs and Secret) stays in the cluster before Kubernetes deletes it (default 1d).
   */
  ttl_after_finished?: Duration;
  /**
   * How long a step's pod may stay Pending (unschedulable, waiting for a node) before the step fails with the scheduler's reason (default 15m).
   */
  pending_timeout?: Duration;
}
/**
 * A toleration: lets the step's pod run on nodes with a matching taint.
 */
export interface KubernetesToleration {
  /**
   * The taint key it tolerates (empty with `operator: Exists` tolerates every taint).
   */
  key?: string;
  /**
   * `Equal` (default) or `Exists`.
   */
  operator?: 'Equal' | 'Exists';
  /**
   * The taint value (with `Equal`).
   */
  value?: string;
  /**
   * The taint effect it tolerates (empty: all).
   */
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  /**
   * With `NoExecute`: how long the pod stays bound after the taint appears.
   */
  toleration_seconds?: number;
}
/**
 * A notification: which run events go where.
 */
export interface Notification {
  /**
   * The notification's unique name (watchers refer to it).
   */
  name: Name;
  /**
   * What the notification is for.
   */
  description?: string;
  /**
   * The events that send a message: `run_failure` (a run ended failed) and `run_recovered` (a schedule's run succeeded after its previous run failed).
   *
   * @minItems 1
   *
   * Items: An event.
   */
  on: ['run_failure' | 'run_recovered', ...('run_failure' | 'run_recovered')[]];
  /**
   * Post to Slack through an incoming webhook (it posts to the channel it was created for).
   */
  slack: {
    /**
     * The webhook URL; it is a credential, so reference a secret: `${secret:slack_webhook}`.
     */
    webhook: string;
  };
}
/**
 * A watcher: `runner serve` polls a Dagster instance for failed runs of every code location and alerts on them.
 */
export interface Watcher {
  /**
   * The watcher's unique name.
   */
  name: Name;
  /**
   * What the watcher is for.
   */
  description?: string;
  /**
   * The Dagster webserver whose GraphQL API is polled.
   */
  dagster: {
    /**
     * The webserver's URL, e.g. `${var:dagster_url}`.
     */
    url: string;
    /**
     * A token, as a secret reference: `${secret:NAME}`. Sent as `Dagster-Cloud-Api-Token` to Dagster+, else as `Authorization: Bearer` (a proxy in front of the webserver).
     */
    token?: string;
    /**
     * Whether the webserver is Dagster+ (default: whether the URL's host ends in `.dagster.cloud`). Dagster+ needs `token` and a URL that names the deployment: `https://ORG.dagster.cloud/prod`.
     */
    cloud?: boolean;
  };
  /**
   * How often to poll (default 30s).
   */
  interval?: Duration;
  /**
   * The names of the notifications that receive the alerts.
   *
   * @minItems 1
   */
  notify: [Name, ...Name[]];
  /**
   * Whether the watcher polls before anyone starts or stops it (default `stopped`).
   */
  default_status?: 'running' | 'stopped';
}
