/** Builders for executor tests: assets, plans and runs without loading pipeline files. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach } from 'vitest';
import type { AssetDef } from '../../src/definitions/model.js';
import { AssetGraph } from '../../src/graph/asset-graph.js';
import { buildPlan } from '../../src/execution/plan.js';
import { execute, type RunOutcome } from '../../src/execution/executor.js';
import type { ExecutorOptions } from '../../src/execution/executor-options.js';
import { MemorySink } from '../../src/execution/sinks.js';
import type { RunEvent } from '../../src/execution/events.js';
import { getHandler } from '../../src/handlers/registry.js';

export const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'probe.mjs');

/** A `command` asset; `over` sets anything else. */
export function asset(key: string, run: string[], over: Partial<AssetDef> = {}): AssetDef {
  return {
    key,
    group: 'default',
    tags: {},
    kinds: [],
    owners: [],
    deps: [],
    handler: 'command',
    config: { run },
    pos: { file: 'test.yaml', line: 1, col: 1 },
    configPath: ['assets', 0, 'config'],
    ...over,
  };
}

/** The probe as a step: records start/end in `log`, sleeps `ms`, then `mode`. */
export function probe(log: string, key: string, ms: number, mode = 'ok'): string[] {
  return [process.execPath, PROBE, log, key, String(ms), mode];
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'runner-exec-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs these assets (all selected) and collects the events. */
export async function runAssets(assets: AssetDef[], opts: Partial<ExecutorOptions> = {}): Promise<{ outcome: RunOutcome; events: RunEvent[] }> {
  const map = new Map(assets.map((a) => [a.key, a]));
  const graph = new AssetGraph(new Map(assets.map((a) => [a.key, a.deps])));
  const plan = buildPlan(map.keys(), map, graph);
  const sink = new MemorySink();
  const outcome = await execute({
    runId: 'run-1',
    plan,
    env: { name: 'test', vars: {}, openmetadata: {} },
    projectDir: process.cwd(),
    handler: getHandler,
    sink,
    concurrency: 4,
    ...opts,
  });
  return { outcome, events: sink.events };
}

export interface Span {
  key: string;
  start: number;
  end: number;
}

/** The start/end records the probes wrote, per key (the last attempt's). */
export function spans(log: string): Map<string, Span> {
  const out = new Map<string, Span>();
  if (!fs.existsSync(log)) return out;
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line) as { key: string; ev: string; t: number };
    const s = out.get(r.key) ?? { key: r.key, start: NaN, end: NaN };
    if (r.ev === 'start') s.start = r.t;
    else s.end = r.t;
    out.set(r.key, s);
  }
  return out;
}

/** The most spans open at one instant. */
export function maxOverlap(list: Iterable<Span>): number {
  const points: Array<[number, number]> = [];
  for (const s of list) points.push([s.start, 1], [s.end, -1]);
  // At equal times an end comes before a start: touching spans do not overlap.
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of points) max = Math.max(max, (cur += d));
  return max;
}

/** Statuses by key. */
export function statuses(outcome: RunOutcome): Record<string, string> {
  return Object.fromEntries(outcome.steps.map((s) => [s.key, s.status]));
}

/** Waits until `check` is true (polling), or fails after `ms`. */
export async function waitFor(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Sets RUNNER_KILL_GRACE to `grace` for each test of the enclosing describe (or file) and
 * restores the previous value (or its absence) after it, so kill escalation is quick.
 */
export function useKillGrace(grace: string): void {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.RUNNER_KILL_GRACE;
    process.env.RUNNER_KILL_GRACE = grace;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.RUNNER_KILL_GRACE;
    else process.env.RUNNER_KILL_GRACE = saved;
  });
}
