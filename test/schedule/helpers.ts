/** Shared pieces of the schedule and serve tests: temp projects, definitions, a fake launcher. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDefinitions } from '../../src/definitions/load.js';
import type { Definitions } from '../../src/definitions/model.js';
import type { Store } from '../../src/storage/store.js';
import type { LaunchRequest, LaunchResult, Launcher } from '../../src/schedule/scheduler.js';

/** A fresh temp directory (removed by the caller's cleanup). */
export function tempDir(prefix = 'runner-sched-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A schedule as tests write it (YAML fields). */
export interface TestSchedule {
  name: string;
  cron: string;
  timezone?: string;
  default_status?: 'running' | 'stopped';
  overlap?: 'skip' | 'queue';
  catchup?: { policy: 'latest' | 'skip' | 'all'; max?: number };
}

/** YAML of a pipelines file with two `command` assets, a job and the given schedules. */
export function pipelineYaml(schedules: TestSchedule[], command: string[] = ['true']): string {
  const lines = [
    'assets:',
    '  - key: demo/a',
    '    handler: command',
    `    config: {run: ${JSON.stringify(command)}}`,
    '  - key: demo/b',
    '    deps: [demo/a]',
    '    handler: command',
    `    config: {run: ${JSON.stringify(command)}}`,
    'jobs:',
    '  - name: demo_job',
    '    select: "demo/*"',
    'schedules:',
  ];
  for (const s of schedules) {
    lines.push(`  - name: ${s.name}`, `    cron: "${s.cron}"`, '    job: demo_job');
    if (s.timezone) lines.push(`    timezone: ${s.timezone}`);
    if (s.default_status) lines.push(`    default_status: ${s.default_status}`);
    if (s.overlap) lines.push(`    overlap: ${s.overlap}`);
    if (s.catchup) lines.push(`    catchup: ${JSON.stringify(s.catchup)}`);
  }
  if (schedules.length === 0) lines.push('  []');
  return lines.join('\n') + '\n';
}

/** Writes `<root>/pipelines/main.yaml` and returns the pipelines directory. */
export function writeProject(root: string, schedules: TestSchedule[], command?: string[]): string {
  const dir = path.join(root, 'pipelines');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.yaml'), pipelineYaml(schedules, command));
  return dir;
}

/** Loads definitions for a set of schedules (throws on invalid input: a test bug). */
export async function defsFor(root: string, schedules: TestSchedule[]): Promise<Definitions> {
  const dir = writeProject(root, schedules);
  const r = await loadDefinitions(dir, { cacheDir: false });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.value;
}

/** A launcher double: records runs in the store as the executor would and ends them on demand. */
export class FakeLauncher {
  readonly requests: LaunchRequest[] = [];
  private readonly pending = new Map<string, (r: LaunchResult) => void>();
  /** When set, the next launches end at once with this result. */
  immediate: LaunchResult | undefined;

  constructor(private readonly store: Store) {}

  readonly launch: Launcher = (req, signal) => {
    this.requests.push(req);
    if (this.immediate?.status === 'not_started') return Promise.resolve(this.immediate);
    this.store.createRun({
      id: req.runId,
      trigger: { type: 'schedule', schedule: req.schedule.name, tick: req.tickTime.toISOString() },
      env: 'default',
      selection: 'job:demo_job',
      job: 'demo_job',
      keys: ['demo/a'],
      pipelinesDir: req.defs.dir,
    });
    this.setStatus(req.runId, 'started');
    if (this.immediate) {
      this.setStatus(req.runId, this.immediate.status as string);
      return Promise.resolve(this.immediate);
    }
    return new Promise<LaunchResult>((resolve) => {
      this.pending.set(req.runId, resolve);
      signal.addEventListener('abort', () => this.finish(req.runId, 'canceled'), { once: true });
    });
  };

  /** Ends a launched run with a status. */
  finish(runId: string, status: 'success' | 'failure' | 'canceled'): void {
    const resolve = this.pending.get(runId);
    if (!resolve) return;
    this.pending.delete(runId);
    this.setStatus(runId, status);
    resolve({ status });
  }

  /** Ids of runs not yet ended. */
  get running(): string[] {
    return [...this.pending.keys()];
  }

  private setStatus(runId: string, status: string): void {
    this.store.db.prepare('UPDATE runs SET status = ? WHERE id = ?').run(status, runId);
  }
}

/** Lets queued promise callbacks run. */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
