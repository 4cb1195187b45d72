/**
 * One run of a workflow for every asset of a run that has the very same config: the dbt
 * assets `openmetadata/dbt/metadata` and `openmetadata/dbt/lineage` run one DBT workflow
 * (dbt lineage comes from the manifest in every DBT run), so ingesting it twice only
 * doubles the load. The first step of such a group to start runs the CLI; the others wait
 * for it (it is already running, so no pool slot is waited for) and are recorded with its
 * outcome and `materialized_by`. A group member whose shared run failed runs it itself.
 */
import { createHash } from 'node:crypto';
import type { RunContext, StepResult } from '../handler.js';
import type { AssetDef } from '../../definitions/model.js';
import type { OpenMetadataConfig } from './types.js';

interface Shared {
  key: string;
  done: Promise<StepResult>;
}

interface RunState {
  /** Fingerprint → the run of that workflow started first. */
  started: Map<string, Shared>;
  /** Key → every key of the run with the same workflow (noted by preflight). */
  groups: Map<string, string[]>;
}

const runs = new Map<string, RunState>();
/** A serve process runs many runs: only the latest few are kept. */
const KEPT_RUNS = 64;

function state(runId: string): RunState {
  let s = runs.get(runId);
  if (!s) {
    s = { started: new Map(), groups: new Map() };
    runs.set(runId, s);
    while (runs.size > KEPT_RUNS) runs.delete(runs.keys().next().value!);
  }
  return s;
}

/** The workflow's identity: its config as written (references, not their values) and the environment. */
export function workflowFingerprint(asset: AssetDef, envName: string): string {
  return createHash('sha256').update(envName).update('\0').update(canonical(asset.config)).digest('hex');
}

/** Notes, before a run, which of its assets share one workflow (so the first one's metadata names them all). */
export function noteSharedWorkflows(runId: string, envName: string, assets: AssetDef[]): Map<string, string[]> {
  const byPrint = new Map<string, string[]>();
  for (const a of assets) {
    const fp = workflowFingerprint(a, envName);
    byPrint.set(fp, [...(byPrint.get(fp) ?? []), a.key]);
  }
  const groups = new Map<string, string[]>();
  for (const keys of byPrint.values()) if (keys.length > 1) for (const k of keys) groups.set(k, [...keys].sort());
  state(runId).groups = groups;
  return groups;
}

/** Runs the step's workflow, or takes the outcome of the run of the same workflow in this run. */
export async function runShared(ctx: RunContext<OpenMetadataConfig>, run: (ctx: RunContext<OpenMetadataConfig>) => Promise<StepResult>): Promise<StepResult> {
  const s = state(ctx.runId);
  const fp = workflowFingerprint(ctx.asset, ctx.env.name);
  const group = s.groups.get(ctx.asset.key);
  const other = s.started.get(fp);
  if (other && other.key !== ctx.asset.key) {
    ctx.log(`the same workflow as ${other.key}: its run materializes this asset too (no second CLI run)`, 'stderr');
    const r = await untilAborted(other.done, ctx.signal);
    if (r === undefined) return { ok: false, error: `canceled while waiting for the run of ${other.key}` };
    if (r.ok) return { ...r, metadata: { ...r.metadata, materialized_by: other.key } };
    ctx.log(`the run of ${other.key} failed: running the workflow for ${ctx.asset.key}`, 'stderr');
  }
  const done = run(ctx).then((r) => (group && r.ok ? { ...r, metadata: { ...r.metadata, materializes: group } } : r));
  s.started.set(fp, { key: ctx.asset.key, done });
  return done;
}

/** `p`'s value, or undefined as soon as `signal` aborts (a timeout or cancel ends the wait at once). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (!signal) return p;
  if (signal.aborted) return Promise.resolve(undefined);
  let onAbort!: () => void;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** JSON with sorted keys, so equal configs written in another order are equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
