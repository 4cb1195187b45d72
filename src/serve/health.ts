/**
 * `/healthz` and `/readyz`. Health: the scheduler loop is alive (its last wake-up is
 * recent) and the store takes a real committed write (this serve's heartbeat row).
 * Readiness: definitions are loaded, the store is open, and the process is not shutting
 * down. Both answer 200 or 503 with a JSON body listing each check.
 */
import type { Database } from 'better-sqlite3';
import { heartbeat, type ServeIdentity } from './presence.js';

/** One check's result. */
export interface CheckResult {
  ok: boolean;
  detail?: string;
  [extra: string]: unknown;
}

/** The body of `/healthz` and `/readyz`. */
export interface HealthReport {
  status: 'ok' | 'fail';
  checks: Record<string, CheckResult>;
}

/** The longest gap between scheduler wake-ups that still counts as alive. */
export const SCHEDULER_STALE_MS = 15_000;

/** What the health check looks at. */
export interface HealthInput {
  now: Date;
  /** When the scheduler loop last finished a wake-up. */
  lastWakeAt: Date | undefined;
  ticking: boolean;
  db: () => Database;
  me: ServeIdentity;
  staleMs?: number;
}

function report(checks: Record<string, CheckResult>): HealthReport {
  return { status: Object.values(checks).every((c) => c.ok) ? 'ok' : 'fail', checks };
}

/** Liveness: scheduler alive and store writable. */
export function healthReport(input: HealthInput): HealthReport {
  const staleMs = input.staleMs ?? SCHEDULER_STALE_MS;
  const age = input.lastWakeAt ? (input.now.getTime() - input.lastWakeAt.getTime()) / 1000 : null;
  const scheduler: CheckResult = {
    ok: input.ticking && age !== null && age * 1000 <= staleMs,
    last_wake: input.lastWakeAt?.toISOString() ?? null,
    age_seconds: age,
  };
  if (!input.ticking) scheduler.detail = 'the scheduler is stopped (shutting down)';
  else if (age === null) scheduler.detail = 'the scheduler has not run yet';
  else if (!scheduler.ok) scheduler.detail = `the scheduler loop last ran ${age.toFixed(1)}s ago`;
  let store: CheckResult;
  try {
    heartbeat(input.db(), input.me, input.now);
    store = { ok: true, detail: 'writable' };
  } catch (err) {
    store = { ok: false, detail: `the store cannot be written: ${err instanceof Error ? err.message : String(err)}` };
  }
  return report({ scheduler, store });
}

/** What readiness looks at. */
export interface ReadyInput {
  definitionsLoaded: boolean;
  schedules: number;
  storeOpen: boolean;
  shuttingDown: boolean;
  /** The last reload's error, if the definitions in force are older than the files. */
  reloadError?: string;
}

/** Readiness: definitions loaded, store open, not shutting down. */
export function readyReport(input: ReadyInput): HealthReport {
  const definitions: CheckResult = { ok: input.definitionsLoaded, schedules: input.schedules };
  if (input.reloadError) definitions.detail = `the last reload failed; the previous definitions stay in force: ${input.reloadError}`;
  return report({
    definitions,
    store: { ok: input.storeOpen },
    shutdown: { ok: !input.shuttingDown, ...(input.shuttingDown ? { detail: 'shutting down' } : {}) },
  });
}
