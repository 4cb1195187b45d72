/**
 * From validated pipeline files to Definitions: sections of all files merged, defaults
 * applied, keys normalised, and the cross-file checks (duplicates, unknown names,
 * cycles, cron and time zones, selections, references) collected as diagnostics.
 */
import type { Diagnostic, Position, Result } from '../diagnostics/diagnostic.js';
import { fail, ok } from '../diagnostics/diagnostic.js';
import { AssetGraph } from '../graph/asset-graph.js';
import { parseDuration } from '../util/duration.js';
import { didYouMean } from '../util/suggest.js';
import type {
  AssetDef,
  Definitions,
  EnvironmentDef,
  JobDef,
  NotificationDef,
  RetryPolicy,
  ScheduleDef,
  SecretDef,
  WatcherDef,
} from './model.js';
import type { ItemPositions, SourceFile } from './source-file.js';
import { checkReferences } from './references.js';
import { checkDurations } from './durations.js';
import { checkHandlerConfigs } from './handler-checks.js';
import { checkSchedules, checkJobs } from './schedule-checks.js';
import { knownHandlers } from './validate.js';
import type { Asset, PipelineFile } from './generated/pipeline-file.js';

/** One loaded, schema-valid file. */
export interface LoadedFile {
  file: SourceFile;
  value: PipelineFileValue;
  items: ItemPositions;
}

/** The shape of a schema-valid file, generated from schemas/pipeline.schema.json. */
export type PipelineFileValue = PipelineFile;
type RawAsset = Asset;

/** Where each definition came from: its file, for messages that need deeper positions. */
export interface Origins {
  assets: Map<string, { file: SourceFile; index: number }>;
  jobs: Map<string, { file: SourceFile; index: number }>;
  schedules: Map<string, { file: SourceFile; index: number }>;
  environments: Map<string, { file: SourceFile }>;
  notifications: Map<string, { file: SourceFile; index: number }>;
  watchers: Map<string, { file: SourceFile; index: number }>;
  secrets: Map<string, { file: SourceFile }>;
}

/** The legacy `a__b__c` form of a key, normalised to `a/b/c`. */
export function normalizeKey(key: string): string {
  return key.includes('__') ? key.split('__').join('/') : key;
}

export function buildDefinitions(dir: string, projectDir: string, files: LoadedFile[]): Result<{ defs: Definitions; origins: Origins }> {
  const ds: Diagnostic[] = [];
  const origins: Origins = {
    assets: new Map(), jobs: new Map(), schedules: new Map(), environments: new Map(), notifications: new Map(), watchers: new Map(), secrets: new Map(),
  };
  const listPos = (f: LoadedFile, section: string, i: number): Position => {
    const p = f.items.lists[section]?.[i];
    return p ? { file: f.file.display, line: p[0], col: p[1] } : f.file.pos([section, i]);
  };
  const mapPos = (f: LoadedFile, section: string, name: string): Position => {
    const p = f.items.maps[section]?.[name];
    return p ? { file: f.file.display, line: p[0], col: p[1] } : f.file.pos([section, name], true);
  };
  const duplicate = (what: string, name: string, first: Position, again: Position) => {
    ds.push({ pos: again, message: `${what} \`${name}\` is defined twice: also at ${fmt(first)}` });
    ds.push({ pos: first, message: `${what} \`${name}\` is defined twice: also at ${fmt(again)}` });
  };

  // Runner settings: one value per setting across all files.
  const settings = { concurrency: 4, pools: {} as Record<string, number>, retention: { runsMs: 90 * 86_400_000 } };
  // Positions are found only for a message: finding one may parse the whole file again.
  const settingFrom = new Map<string, () => Position>();
  for (const f of files) {
    const r = f.value.runner;
    if (!r) continue;
    const set = (name: string, apply: () => void) => {
      const where = () => f.file.pos(['runner', ...name.split('.')], true);
      const prev = settingFrom.get(name);
      if (prev) ds.push({ pos: where(), message: `runner setting \`${name}\` is also set at ${fmt(prev())}: set it in one file` });
      else {
        settingFrom.set(name, where);
        apply();
      }
    };
    if (r.concurrency !== undefined) set('concurrency', () => (settings.concurrency = r.concurrency!));
    for (const [pool, n] of Object.entries(r.pools ?? {})) set(`pools.${pool}`, () => (settings.pools[pool] = n));
    if (r.retention?.runs !== undefined) set('retention.runs', () => (settings.retention.runsMs = parseDuration(r.retention!.runs!)!));
  }

  // Assets.
  const handlers = new Set(knownHandlers());
  const assets = new Map<string, AssetDef>();
  for (const f of files) {
    (f.value.assets ?? []).forEach((a, index) => {
      const pos = listPos(f, 'assets', index);
      const key = normalizeKey(a.key);
      const prev = assets.get(key);
      if (prev) return duplicate('asset', key, prev.pos, pos);
      if (!handlers.has(a.handler)) {
        ds.push({ pos: f.file.pos(['assets', index, 'handler']), message: `unknown handler \`${a.handler}\`${didYouMean(a.handler, handlers)}; known: ${[...handlers].join(', ')}` });
      }
      if (a.pool !== undefined && settings.pools[a.pool] === undefined && !settingFrom.has(`pools.${a.pool}`)) {
        // Checked again below once all files' pools are known.
      }
      assets.set(key, {
        key,
        description: a.description,
        group: a.group ?? 'default',
        tags: a.tags ?? {},
        kinds: a.kinds ?? [],
        owners: a.owners ?? [],
        deps: (a.deps ?? []).map(normalizeKey),
        handler: a.handler,
        config: a.config ?? {},
        retry: a.retry ? retryPolicy(a.retry) : undefined,
        timeoutMs: a.timeout ? parseDuration(a.timeout) : undefined,
        pool: a.pool,
        ...(a.inherit_env ? { inheritEnv: a.inherit_env } : {}),
        ...(a.kubernetes ? { kubernetes: a.kubernetes } : {}),
        pos,
        configPath: ['assets', index, 'config'],
      });
      origins.assets.set(key, { file: f.file, index });
    });
  }
  // Deps and pools, now that every key and pool is known.
  for (const a of assets.values()) {
    const { file, index } = origins.assets.get(a.key)!;
    a.deps.forEach((d, i) => {
      if (!assets.has(d)) ds.push({ pos: file.pos(['assets', index, 'deps', i]), message: `asset \`${a.key}\` depends on unknown asset \`${d}\`${didYouMean(d, assets.keys())}` });
    });
    if (a.pool !== undefined && settings.pools[a.pool] === undefined) {
      ds.push({ pos: file.pos(['assets', index, 'pool']), message: `unknown pool \`${a.pool}\`${didYouMean(a.pool, Object.keys(settings.pools))}: define it under runner.pools` });
    }
  }
  const graph = new AssetGraph(new Map([...assets.values()].map((a) => [a.key, a.deps])));
  const cycles = graph.cycles();
  for (const cycle of cycles) {
    const first = assets.get(cycle[0]!)!;
    ds.push({ pos: first.pos, message: `dependency cycle: ${cycle.join(' -> ')}` });
  }

  // Jobs.
  const jobs = new Map<string, JobDef>();
  for (const f of files) {
    (f.value.jobs ?? []).forEach((j, index) => {
      const pos = listPos(f, 'jobs', index);
      const prev = jobs.get(j.name);
      if (prev) return duplicate('job', j.name, prev.pos, pos);
      jobs.set(j.name, { name: j.name, description: j.description, select: j.select, tags: j.tags ?? {}, pos });
      origins.jobs.set(j.name, { file: f.file, index });
    });
  }

  // Schedules.
  const schedules = new Map<string, ScheduleDef>();
  for (const f of files) {
    (f.value.schedules ?? []).forEach((s, index) => {
      const pos = listPos(f, 'schedules', index);
      const prev = schedules.get(s.name);
      if (prev) return duplicate('schedule', s.name, prev.pos, pos);
      schedules.set(s.name, {
        name: s.name,
        description: s.description,
        cron: s.cron,
        timezone: s.timezone ?? 'UTC',
        job: s.job,
        select: s.select,
        env: s.env,
        defaultStatus: s.default_status ?? 'stopped',
        overlap: s.overlap ?? 'skip',
        catchup: { policy: s.catchup?.policy ?? 'latest', max: s.catchup?.max ?? 5 },
        pos,
      });
      origins.schedules.set(s.name, { file: f.file, index });
    });
  }

  // Environments: named entries across files, and one `default`.
  const environments = new Map<string, EnvironmentDef>();
  let defaultEnv: { name: string; pos: Position; file: SourceFile } | undefined;
  for (const f of files) {
    for (const [name, raw] of Object.entries(f.value.environments ?? {})) {
      const pos = mapPos(f, 'environments', name);
      if (name === 'default') {
        if (defaultEnv) ds.push({ pos, message: `environments.default is also set at ${fmt(defaultEnv.pos)}: set it in one file` });
        else defaultEnv = { name: raw as string, pos, file: f.file };
        continue;
      }
      const prev = environments.get(name);
      if (prev) {
        duplicate('environment', name, prev.pos, pos);
        continue;
      }
      const e = raw as Omit<EnvironmentDef, 'name' | 'pos' | 'vars'> & { vars?: Record<string, string | number | boolean> };
      const vars: Record<string, string> = {};
      for (const [k, v] of Object.entries(e.vars ?? {})) vars[k] = String(v);
      const inherit = (raw as { inherit_env?: string[] }).inherit_env;
      environments.set(name, { name, description: e.description, vars, vault: e.vault, openmetadata: e.openmetadata, ...(inherit ? { inheritEnv: inherit } : {}), ...(e.kubernetes ? { kubernetes: e.kubernetes } : {}), pos });
      origins.environments.set(name, { file: f.file });
    }
  }
  if (defaultEnv && !environments.has(defaultEnv.name)) {
    ds.push({ pos: defaultEnv.file.pos(['environments', 'default']), message: `environments.default names unknown environment \`${defaultEnv.name}\`${didYouMean(defaultEnv.name, environments.keys())}` });
  }

  // Secrets.
  const secrets = new Map<string, SecretDef>();
  for (const f of files) {
    for (const [name, s] of Object.entries(f.value.secrets ?? {})) {
      const pos = mapPos(f, 'secrets', name);
      const prev = secrets.get(name);
      if (prev) {
        duplicate('secret', name, prev.pos, pos);
        continue;
      }
      secrets.set(name, { name, description: s.description, env: s.env, vault: s.vault ? { ...s.vault, kv: s.vault.kv ?? 1 } : undefined, pos });
      origins.secrets.set(name, { file: f.file });
    }
  }

  // Notifications and watchers.
  const notifications = new Map<string, NotificationDef>();
  for (const f of files) {
    (f.value.notifications ?? []).forEach((n, index) => {
      const pos = listPos(f, 'notifications', index);
      const prev = notifications.get(n.name);
      if (prev) return duplicate('notification', n.name, prev.pos, pos);
      notifications.set(n.name, { name: n.name, description: n.description, on: n.on, slack: n.slack, pos });
      origins.notifications.set(n.name, { file: f.file, index });
    });
  }
  const watchers = new Map<string, WatcherDef>();
  for (const f of files) {
    (f.value.watchers ?? []).forEach((w, index) => {
      const pos = listPos(f, 'watchers', index);
      const prev = watchers.get(w.name);
      if (prev) return duplicate('watcher', w.name, prev.pos, pos);
      watchers.set(w.name, {
        name: w.name,
        description: w.description,
        dagster: w.dagster,
        intervalMs: w.interval ? parseDuration(w.interval)! : 30_000,
        notify: w.notify,
        defaultStatus: w.default_status ?? 'stopped',
        pos,
      });
      origins.watchers.set(w.name, { file: f.file, index });
      if (w.dagster.cloud === true && w.dagster.token === undefined) ds.push({ pos: f.file.pos(['watchers', index, 'dagster', 'cloud']), message: `watcher \`${w.name}\` is on Dagster+ (cloud: true) but has no dagster.token: Dagster+ needs a user or agent token (\`token: "\${secret:NAME}"\`)` });
      w.notify.forEach((n, i) => {
        if (!notifications.has(n)) ds.push({ pos: f.file.pos(['watchers', index, 'notify', i]), message: `watcher \`${w.name}\` names unknown notification \`${n}\`${didYouMean(n, notifications.keys())}` });
      });
    });
  }

  const defs: Definitions = {
    dir,
    projectDir,
    settings,
    assets,
    graph,
    jobs,
    schedules,
    environments,
    defaultEnv: defaultEnv?.name,
    secrets,
    notifications,
    watchers,
  };

  // Checks that need the whole picture. A cyclic graph cannot be ordered, so selections wait.
  if (cycles.length === 0) {
    ds.push(...checkJobs(defs, origins));
    ds.push(...checkSchedules(defs, origins));
  }
  ds.push(...checkReferences(defs, origins, files));
  ds.push(...checkDurations(files));
  ds.push(...checkHandlerConfigs(defs, origins));

  if (ds.length > 0) return fail(...ds);
  return ok({ defs, origins });
}

function retryPolicy(r: NonNullable<RawAsset['retry']>): RetryPolicy {
  return {
    attempts: r.attempts,
    backoff: r.backoff ?? 'fixed',
    delayMs: r.delay ? parseDuration(r.delay)! : 10_000,
    maxDelayMs: r.max_delay ? parseDuration(r.max_delay)! : 3_600_000,
    jitter: r.jitter ?? true,
  };
}

/** `file:line:col`. */
export function fmt(p: Position): string {
  return `${p.file}:${p.line}:${p.col}`;
}
