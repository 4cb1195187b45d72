/**
 * Secrets and alerts for one run, ready to plug into the executor: a resolver and masker
 * for the run, `resolveSecrets` and `mask` in the executor's shapes, and the notifier as an
 * event sink that alerts after the run finished and records the outcome on the run.
 * `runner materialize` and `runner serve` call {@link runHooks} once per run.
 */
import type { Definitions } from '../definitions/model.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import type { EventSink } from '../execution/events.js';
import { Masker } from '../secrets/masker.js';
import { SecretResolver } from '../secrets/resolver.js';
import { knownSecretValues } from '../secrets/known.js';
import type { VaultSession } from '../secrets/vault.js';
import { type AlertRun, scheduleOf } from './message.js';
import { type AlertStore, Notifier, notifierSink } from './notifier.js';
import type { AlertOutcome } from './notifier.js';
import type { DeliveryOptions } from './slack.js';

/** What the run store offers that the hooks use (the Store class has these). */
export interface HookStore extends AlertStore {
  /** Recent runs, newest first (to find a schedule's previous run for `run_recovered`). */
  listRuns?(q: { limit?: number }): AlertRun[];
}

/** The secrets and alerts of one run. */
export interface RunHooks {
  /** The run's resolver (each secret at most once per run). */
  resolver: SecretResolver;
  /** The run's masker: every secret known at the start (secrets/known.ts), every value resolved later, and their encodings. */
  masker: Masker;
  notifier: Notifier;
  /** For the executor: masks a line or message. */
  mask: (text: string) => string;
  /**
   * For the executor: resolves the named secrets of a step. Rejects with one line per
   * failed secret (naming it and where it was looked for, never a value), so the step fails
   * with that message before its handler starts.
   */
  resolveSecrets: (names: string[], signal?: AbortSignal) => Promise<Record<string, string | undefined>>;
  /** Event sinks to add after the store: the notifier. */
  sinks: EventSink[];
  /** The notifier's sink (one of `sinks`): its outcome settles once the run's alert was handled. */
  alert: EventSink & { outcome: Promise<AlertOutcome | undefined> };
}

export interface RunHooksOptions {
  defs: Pick<Definitions, 'secrets' | 'notifications'>;
  env: Pick<ResolvedEnvironment, 'name' | 'vars' | 'vault'>;
  /** The run store: the notifier reads the final run from it and records the alert on it. */
  store: HookStore;
  processEnv?: Record<string, string | undefined>;
  /** A long-lived Vault session (serve: `vaultSessionFor(env)`); default: one for this run. */
  vault?: VaultSession;
  /** Where printed alerts go (default stderr). */
  out?: { write(text: string): unknown };
  delivery?: DeliveryOptions;
}

/** Builds the secrets and alerts of one run. */
export function runHooks(opts: RunHooksOptions): RunHooks {
  const masker = new Masker(knownSecretValues({ defs: opts.defs, env: opts.env, processEnv: opts.processEnv ?? process.env }));
  const resolver = new SecretResolver({ secrets: opts.defs.secrets, env: opts.env, processEnv: opts.processEnv, masker, vault: opts.vault });
  const notifier = new Notifier({ notifications: opts.defs.notifications, env: opts.env, resolver, masker, processEnv: opts.processEnv, out: opts.out, delivery: opts.delivery });
  const resolveSecrets = async (names: string[]): Promise<Record<string, string | undefined>> => {
    const outcomes = await resolver.resolve(names);
    const failed: string[] = [];
    const values: Record<string, string | undefined> = {};
    for (const [name, o] of outcomes) {
      if (o.ok) values[name] = o.value;
      else failed.push(o.message);
    }
    if (failed.length > 0) throw new Error(failed.join('\n'));
    return values;
  };
  const store = opts.store;
  const sink = notifierSink({ notifier, store, previous: store.listRuns ? (run) => previousOfSchedule(run, store.listRuns!.bind(store)) : undefined });
  return { resolver, masker, notifier, mask: (t) => masker.mask(t), resolveSecrets, sinks: [sink], alert: sink };
}

/** The finished run of the same schedule before `run` (newest first in `listRuns`), if any. */
export function previousOfSchedule(run: AlertRun, listRuns: (q: { limit?: number }) => AlertRun[]): { id: string; status: string } | undefined {
  const schedule = scheduleOf(run.trigger);
  if (!schedule) return undefined;
  const runs = listRuns({ limit: 200 });
  const at = runs.findIndex((r) => r.id === run.id);
  for (const r of runs.slice(at + 1)) {
    if (r.id === run.id || scheduleOf(r.trigger) !== schedule) continue;
    if (r.status === 'success' || r.status === 'failure') return { id: r.id, status: r.status };
  }
  return undefined;
}
