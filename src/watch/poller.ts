/**
 * One poll of one watcher: ask Dagster for the runs that ended in failure since the
 * watcher's cursor (minus a short look-back, for runs whose write committed late), claim
 * the new ones oldest first in one transaction that also moves the cursor (state.ts), then
 * deliver every claim this poller may work on: its own, failed ones due for a retry, and
 * those of a poller that died before sending. Dagster unreachable or erroring makes the
 * poll throw (the caller backs off and retries; nothing claimed is lost, the cursor has
 * not moved past anything unclaimed). A Slack delivery that fails is recorded on its claim
 * and retried by a later poll. A run Dagster says it will retry waits (`retry_pending`) and
 * is read again by each poll until its retry starts, Dagster takes the retry back, or
 * `retryWaitMs` runs out (retry.ts).
 */
import type { Database } from 'better-sqlite3';
import type { Definitions, WatcherDef } from '../definitions/model.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import { secretsIn, substitute } from '../definitions/interpolate.js';
import { Masker } from '../secrets/masker.js';
import { knownSecretValues } from '../secrets/known.js';
import { SecretResolver } from '../secrets/resolver.js';
import type { VaultSession } from '../secrets/vault.js';
import { Notifier } from '../notify/notifier.js';
import type { SlackMessage } from '../notify/message.js';
import type { DeliveryOptions } from '../notify/slack.js';
import type { Logger } from '../serve/log.js';
import { DagsterClient, type DagsterRunSummary, isDagsterCloud } from './dagster-client.js';
import { buildDagsterAlert, codeLocation } from './alert.js';
import { DAGSTER_TAGS, firstVerdict, pendingVerdict, tagValue, takenBackNote } from './retry.js';
import {
  type AlertRow,
  type ClaimItem,
  type DeliveryRecord,
  type Owner,
  claimRuns,
  ensureCursor,
  finishDelivery,
  markSending,
  markUncertain,
  pendingClaims,
  saveMessage,
  takeClaim,
} from './state.js';
import { retryPending, settleRetry } from './retry-state.js';

/** A watcher's configuration that cannot be used (its URL or token does not resolve). */
export class WatchConfigError extends Error {
  override name = 'WatchConfigError';
}

/** Timings of a poll; the defaults suit production. */
export interface PollTuning {
  /** How far behind the cursor each poll looks again, in seconds (default 120). */
  lookbackS: number;
  /** A failure younger than this is left for the next poll, so Dagster can tag a run it will retry (default 5s). */
  settleMs: number;
  /** Runs per page (default 100). */
  pageSize: number;
  /** How long one request to Dagster may take (default 30s). */
  requestTimeoutMs: number;
  /** How long a claim is held before another poller may take it over (default 10 min). */
  leaseMs: number;
  /** The first wait before a failed delivery is retried (default 1 min), doubled each time. */
  retryBaseMs: number;
  /** How long a run Dagster says it will retry may wait for its retry to start before it is alerted anyway (default 15 min). */
  retryWaitMs: number;
  /** The longest wait between delivery retries (default 30 min). */
  retryMaxMs: number;
  /** A delivery still failing this long after the claim is given up (default 24 h). */
  giveUpAfterMs: number;
}

/** The defaults of {@link PollTuning}. */
export const DEFAULT_TUNING: PollTuning = {
  lookbackS: 120,
  settleMs: 5000,
  pageSize: 100,
  requestTimeoutMs: 30_000,
  leaseMs: 10 * 60_000,
  retryBaseMs: 60_000,
  retryWaitMs: 15 * 60_000,
  retryMaxMs: 30 * 60_000,
  giveUpAfterMs: 24 * 3_600_000,
};

/** Test seams: called at the two points where a crash matters. */
export interface PollHooks {
  /** After the claim transaction committed. */
  afterClaim?(runIds: string[]): void | Promise<void>;
  /** After the message was built, before the claim is marked `sending`. */
  beforeSending?(runId: string): void | Promise<void>;
  /** After the claim is marked `sending`, before the HTTP request. */
  beforeRequest?(runId: string): void | Promise<void>;
}

/** What one poll needs. */
export interface PollDeps {
  db: Database;
  def: WatcherDef;
  defs: Pick<Definitions, 'notifications' | 'secrets'>;
  env: Pick<ResolvedEnvironment, 'name' | 'vars' | 'vault'>;
  owner: Owner;
  processEnv?: Record<string, string | undefined>;
  /** A long-lived Vault session (serve); default: one per poll. */
  vault?: VaultSession;
  /** Where alerts without a configured webhook are printed (default stderr). */
  out?: { write(text: string): unknown };
  delivery?: DeliveryOptions;
  log?: Logger;
  now?: () => Date;
  signal?: AbortSignal;
  tuning?: Partial<PollTuning>;
  hooks?: PollHooks;
}

/** What a poll did. */
export interface PollOutcome {
  /** The Dagster webserver polled. */
  url: string;
  /** Failed runs Dagster listed (look-back included). */
  listed: number;
  claimed: string[];
  /** Runs newly recorded as waiting for Dagster's retry. */
  pending: string[];
  /** Runs whose retry started: no alert for them. */
  skipped: string[];
  /** Delivery outcomes, by run id. */
  delivered: Array<{ runId: string; status: DeliveryRecord['status'] }>;
  uncertain: string[];
}

/** The webserver URL and token of a watcher in an environment (secrets resolved). */
export async function resolveTarget(def: WatcherDef, env: Pick<ResolvedEnvironment, 'vars'>, resolver: SecretResolver, processEnv: Record<string, string | undefined>): Promise<{ url: string; token?: string; cloud: boolean }> {
  const names = secretsIn(def.dagster);
  if (names.size > 0) {
    const outcomes = await resolver.resolve(names);
    const failed = [...outcomes.values()].filter((o) => !o.ok).map((o) => (o.ok ? '' : o.message));
    if (failed.length > 0) throw new WatchConfigError(`watcher ${def.name}: ${failed.join('; ')}`);
  }
  const scope = { env: processEnv, vars: env.vars, secrets: (n: string) => resolver.value(n) };
  const url = substitute(def.dagster.url, scope);
  if (url.errors.length > 0) throw new WatchConfigError(`watcher ${def.name}: dagster.url: ${url.errors.join('; ')}`);
  const u = url.value.trim();
  if (!/^https?:\/\/[^/]/.test(u)) throw new WatchConfigError(`watcher ${def.name}: dagster.url must be an http(s) URL, not \`${url.value}\``);
  const cloud = def.dagster.cloud ?? isDagsterCloud(u);
  if (cloud && def.dagster.token === undefined) throw new WatchConfigError(`watcher ${def.name}: Dagster+ needs dagster.token (a user or agent token, sent as Dagster-Cloud-Api-Token)`);
  if (cloud && !/^https?:\/\/[^/]+\/[^/]/.test(u)) throw new WatchConfigError(`watcher ${def.name}: dagster.url of Dagster+ must name the deployment (https://ORG.dagster.cloud/prod), not \`${u}\``);
  if (def.dagster.token === undefined) return { url: u, cloud };
  const token = substitute(def.dagster.token, scope);
  if (token.errors.length > 0) throw new WatchConfigError(`watcher ${def.name}: dagster.token: ${token.errors.join('; ')}`);
  resolver.masker.add(token.value);
  return { url: u, token: token.value, cloud };
}

/** Polls once; throws DagsterError (Dagster trouble) or WatchConfigError, with secrets masked. */
export async function pollOnce(deps: PollDeps): Promise<PollOutcome> {
  const t: PollTuning = { ...DEFAULT_TUNING, ...deps.tuning };
  const clock = deps.now ?? (() => new Date());
  const processEnv = deps.processEnv ?? process.env;
  const { db, def, owner } = deps;
  // Every secret the runner knows, as in a run: a Dagster error text may quote any of them.
  const masker = new Masker(knownSecretValues({ defs: deps.defs, env: deps.env, processEnv }));
  const resolver = new SecretResolver({ secrets: deps.defs.secrets, env: deps.env, processEnv, masker, vault: deps.vault });
  try {
    const target = await resolveTarget(def, deps.env, resolver, processEnv);
    const client = new DagsterClient({ url: target.url, token: target.token, cloud: target.cloud, timeoutMs: t.requestTimeoutMs, pageSize: t.pageSize, signal: deps.signal });
    const outcome: PollOutcome = { url: target.url, listed: 0, claimed: [], pending: [], skipped: [], delivered: [], uncertain: [] };

    // 1. The runs that failed since the cursor, oldest first, claimed in one transaction.
    const cursor = ensureCursor(db, def, clock());
    const from = Math.max(cursor.since, cursor.updated_after - t.lookbackS);
    const runs = (await client.failedRunsSince(from)).filter((r) => r.status === 'FAILURE');
    outcome.listed = runs.length;
    const byId = new Map(runs.map((r) => [r.runId, r]));
    const settled = (clock().getTime() - t.settleMs) / 1000;
    const items: ClaimItem[] = [];
    let advanceTo: number | null = null;
    for (const r of runs) {
      const at = r.updateTime ?? r.endTime ?? r.creationTime;
      // Too fresh: Dagster may be about to tag it for a retry. It and everything after wait for the next poll.
      if (at > settled) break;
      if (at <= cursor.since) continue;
      const verdict = firstVerdict(r);
      items.push({ runId: r.runId, job: r.jobName, location: codeLocation(r), updateTime: at, pending: verdict.kind === 'pending' ? verdict.reason : undefined, takenBack: takenBackNote(r.tags) });
      advanceTo = Math.max(advanceTo ?? at, at);
    }
    const claim = claimRuns(db, def.name, items, advanceTo, owner, clock(), t.leaseMs);
    outcome.claimed = claim.claimed;
    outcome.pending = claim.pending;
    for (const id of claim.pending) {
      const r = byId.get(id)!;
      deps.log?.info(`no alert yet for run ${id} of job ${r.jobName}: Dagster will retry it (${DAGSTER_TAGS.willRetry}=true); watching for the retry`, { watcher: def.name, run_id: id, location: codeLocation(r) });
    }
    for (const id of claim.takenBack) {
      const r = byId.get(id)!;
      deps.log?.warn(`alerting on run ${id} of job ${r.jobName} after all: ${takenBackNote(r.tags)}`, { watcher: def.name, run_id: id, location: codeLocation(r) });
    }
    await deps.hooks?.afterClaim?.(claim.claimed);

    // 1b. The runs waiting for Dagster's retry, read again.
    await settleRetries(db, client, deps, t, clock, outcome);

    // 2. Deliver: own claims, due retries, and claims of pollers that are gone.
    const notifier = new Notifier({ notifications: deps.defs.notifications, env: deps.env, resolver, masker, processEnv, out: deps.out, delivery: { ...deps.delivery, signal: deps.signal } });
    for (const row of pendingClaims(db, def.name, owner, clock())) {
      if (deps.signal?.aborted) break;
      if (row.status === 'sending') {
        if (markUncertain(db, row, clock())) {
          outcome.uncertain.push(row.run_id);
          deps.log?.warn(`alert for run ${row.run_id} may not have been sent: the process sending it stopped mid-way; not sending it again`, { watcher: def.name, run_id: row.run_id });
        }
        continue;
      }
      if (!takeClaim(db, row, owner, clock(), t.leaseMs)) continue;
      let message: SlackMessage;
      if (row.message) {
        message = JSON.parse(row.message) as SlackMessage;
      } else {
        // Dagster's texts are masked before the alert cuts and escapes them, and the alert once more.
        const detail = masker.maskDeep(await client.runDetail(row.run_id));
        const run = masker.maskDeep(detail.run ?? byId.get(row.run_id) ?? summaryOf(row));
        message = masker.maskDeep(buildDagsterAlert(run, detail, { env: deps.env.name, dagsterUrl: target.url, note: row.detail ?? undefined }));
        saveMessage(db, def.name, row.run_id, owner, JSON.stringify(message));
      }
      await deps.hooks?.beforeSending?.(row.run_id);
      const rec = await deliver({ ...deps, tuning: t, clock, resolver, notifier, row, message });
      if (rec) outcome.delivered.push({ runId: row.run_id, status: rec.status });
    }
    return outcome;
  } catch (err) {
    if (err instanceof Error) err.message = masker.mask(err.message);
    throw err;
  }
}

/**
 * Reads every `retry_pending` run again (and the retry its `dagster/auto_retry_run_id`
 * names): a started retry settles it as `skipped`; Dagster taking the retry back, the run
 * vanishing, or the wait running out claims it for an alert.
 */
async function settleRetries(db: Database, client: DagsterClient, deps: PollDeps, t: PollTuning, clock: () => Date, outcome: PollOutcome): Promise<void> {
  const rows = retryPending(db, deps.def.name);
  if (rows.length === 0) return;
  const runs = new Map<string, DagsterRunSummary>();
  for (let i = 0; i < rows.length; i += t.pageSize) for (const r of await client.runsByIds(rows.slice(i, i + t.pageSize).map((x) => x.run_id))) runs.set(r.runId, r);
  const retryIds = [...runs.values()].map((r) => tagValue(r.tags, DAGSTER_TAGS.autoRetryRunId)).filter((x): x is string => !!x);
  const retries = new Map<string, DagsterRunSummary>();
  for (let i = 0; i < retryIds.length; i += t.pageSize) for (const r of await client.runsByIds(retryIds.slice(i, i + t.pageSize))) retries.set(r.runId, r);
  const now = clock();
  for (const row of rows) {
    const run = runs.get(row.run_id) ?? null;
    const retryId = run ? tagValue(run.tags, DAGSTER_TAGS.autoRetryRunId) : undefined;
    const verdict = pendingVerdict({ run, retry: retryId ? (retries.get(retryId) ?? null) : undefined, waitedMs: now.getTime() - Date.parse(row.claimed_at), maxWaitMs: t.retryWaitMs });
    const fields = { watcher: deps.def.name, run_id: row.run_id, job: row.job ?? undefined, location: row.location ?? undefined };
    if (verdict.kind === 'retried') {
      if (settleRetry(db, deps.def.name, row.run_id, 'skipped', verdict.reason, deps.owner, now, t.leaseMs)) {
        outcome.skipped.push(row.run_id);
        deps.log?.info(`no alert for run ${row.run_id} of job ${row.job ?? '?'}: ${verdict.reason}`, fields);
      }
    } else if (verdict.kind === 'alert') {
      if (settleRetry(db, deps.def.name, row.run_id, 'claimed', verdict.note ?? 'Dagster will not retry it', deps.owner, now, t.leaseMs)) {
        outcome.claimed.push(row.run_id);
        deps.log?.warn(`alerting on run ${row.run_id} of job ${row.job ?? '?'} after all: ${verdict.note ?? ''}`, fields);
      }
    }
  }
}

/** A run summary from what its claim recorded (Dagster no longer lists it). */
function summaryOf(row: AlertRow): DagsterRunSummary {
  return {
    runId: row.run_id,
    jobName: row.job ?? '',
    status: 'FAILURE',
    creationTime: row.run_updated_at ?? 0,
    startTime: null,
    endTime: row.run_updated_at,
    updateTime: row.run_updated_at,
    repositoryOrigin: row.location ? { repositoryLocationName: row.location, repositoryName: '' } : null,
    tags: [],
  };
}

/**
 * Sends one claim's message to each of the watcher's notifications not yet reached,
 * between `sending` and its outcome. Webhook secrets are resolved first, so a Vault
 * failure is a plain retryable failure, not an uncertain send.
 */
async function deliver(a: PollDeps & { tuning: PollTuning; clock: () => Date; resolver: SecretResolver; notifier: Notifier; row: AlertRow; message: SlackMessage }): Promise<DeliveryRecord | undefined> {
  const { db, def, owner, row } = a;
  const done = parseTargets(row.targets);
  const todo = a.def.notify.filter((n) => done[n] !== 'sent' && done[n] !== 'printed');
  // Only the notifications the watcher names now count (the definitions may have changed since the last attempt).
  const results: Record<string, string> = Object.fromEntries(a.def.notify.filter((n) => done[n] !== undefined).map((n) => [n, done[n]!]));
  const details: string[] = [];
  const send: string[] = [];
  for (const name of todo) {
    const n = a.defs.notifications.get(name);
    if (!n) {
      results[name] = 'failed';
      details.push(`${name}: no such notification`);
      continue;
    }
    const outcomes = await a.resolver.resolve(secretsIn(n.slack.webhook));
    const broken = [...outcomes.values()].find((o) => !o.ok && !o.unconfigured);
    if (broken && !broken.ok) {
      results[name] = 'failed';
      details.push(`${name}: webhook ${broken.message}`);
    } else send.push(name);
  }
  // One lease per notification: each delivery may wait out retries and Retry-After.
  if (!markSending(db, def.name, row.run_id, owner, a.clock(), a.tuning.leaseMs * Math.max(1, send.length))) return undefined;
  await a.hooks?.beforeRequest?.(row.run_id);
  for (const name of send) {
    const o = await a.notifier.notify('run_failure', a.message, [name]);
    results[name] = o.status === 'none' ? 'printed' : o.status;
    details.push(o.detail ?? `${name}: ${o.status}`);
  }
  const now = a.clock();
  const values = Object.values(results);
  const attempts = row.attempts + 1;
  let rec: DeliveryRecord;
  if (values.every((v) => v === 'sent' || v === 'printed')) {
    rec = { status: values.includes('sent') ? 'sent' : 'printed', targets: results, detail: details.join('; '), nextAttemptAt: null, sentAt: now };
  } else if (now.getTime() - Date.parse(row.claimed_at) >= a.tuning.giveUpAfterMs) {
    rec = { status: 'given_up', targets: results, detail: `${details.join('; ')}; gave up after ${attempts} attempts`, nextAttemptAt: null, sentAt: null };
  } else {
    const wait = Math.min(a.tuning.retryMaxMs, a.tuning.retryBaseMs * 2 ** (attempts - 1));
    rec = { status: 'failed', targets: results, detail: details.join('; '), nextAttemptAt: new Date(now.getTime() + wait), sentAt: null };
  }
  finishDelivery(db, def.name, row.run_id, owner, rec);
  const fields = { watcher: def.name, run_id: row.run_id, job: row.job ?? undefined, location: row.location ?? undefined };
  if (rec.status === 'failed' || rec.status === 'given_up') a.log?.error(`alert for run ${row.run_id} ${rec.status === 'failed' ? 'not delivered, will retry' : 'given up'}: ${rec.detail}`, fields);
  else a.log?.info(`alert for failed run ${row.run_id} ${rec.status}`, fields);
  return rec;
}

function parseTargets(text: string | null): Record<string, string> {
  if (!text) return {};
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  } catch {
    return {};
  }
}
