/** Shared pieces of the watcher tests: a project with a watcher, failed Dagster runs, stores. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadDefinitions } from '../../src/definitions/load.js';
import type { Definitions } from '../../src/definitions/model.js';
import { resolveEnvironment, type ResolvedEnvironment } from '../../src/definitions/environment.js';
import type { FakeRun } from '../support/fake-dagster.js';

/** A fresh temp directory. */
export function tempDir(prefix = 'runner-watch-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Options of {@link writeProject}. */
export interface ProjectOptions {
  defaultStatus?: 'running' | 'stopped';
  interval?: string;
  /** Adds `token: "${secret:dagster_token}"` (from env DAGSTER_TOKEN). */
  token?: boolean;
  /** A second notification in `notify` (another webhook, env SLACK_WEBHOOK_URL_2). */
  twoTargets?: boolean;
  /** Adds `cloud: true` (Dagster+). */
  cloud?: boolean;
}

/** Writes `<root>/pipelines/main.yaml` with one environment (`production`, dagster_url from env) and one watcher. */
export function writeProject(root: string, o: ProjectOptions = {}): string {
  const dir = path.join(root, 'pipelines');
  fs.mkdirSync(dir, { recursive: true });
  const yaml = `
environments:
  default: production
  production:
    vars:
      dagster_url: "\${env:TEST_DAGSTER_URL}"
secrets:
  slack_webhook: {env: SLACK_WEBHOOK_URL}
  slack_webhook_2: {env: SLACK_WEBHOOK_URL_2}
  dagster_token: {env: DAGSTER_TOKEN}
notifications:
  - name: run_failure_slack
    on: [run_failure]
    slack: {webhook: "\${secret:slack_webhook}"}
  - name: second_slack
    on: [run_failure]
    slack: {webhook: "\${secret:slack_webhook_2}"}
watchers:
  - name: dagster_run_failures
    dagster: {url: "\${var:dagster_url}"${o.token ? ', token: "${secret:dagster_token}"' : ''}${o.cloud ? ', cloud: true' : ''}}
    interval: ${o.interval ?? '30s'}
    notify: [run_failure_slack${o.twoTargets ? ', second_slack' : ''}]
    default_status: ${o.defaultStatus ?? 'stopped'}
`;
  fs.writeFileSync(path.join(dir, 'main.yaml'), yaml);
  return dir;
}

/** Loads the project's definitions and its environment (with `env` as the process environment). */
export async function load(dir: string, env: Record<string, string | undefined>): Promise<{ defs: Definitions; environment: ResolvedEnvironment }> {
  const r = await loadDefinitions(dir);
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const e = resolveEnvironment(r.value, undefined, env);
  if (!e.ok) throw new Error(e.diagnostics.map((d) => d.message).join('\n'));
  return { defs: r.value, environment: e.value };
}

/** Seconds since the epoch, `ago` seconds before now. */
export const secondsAgo = (ago: number): number => Date.now() / 1000 - ago;

let seq = 0;

/** A failed run of `job` in `location`, failed `ago` seconds ago, with one failed step. */
export function failedRun(over: Partial<FakeRun> & { ago?: number } = {}): FakeRun {
  const ago = over.ago ?? 60;
  const runId = over.runId ?? randomUUID();
  const step = `step_${++seq}`;
  const { ago: _ago, ...rest } = over;
  return {
    runId,
    jobName: 'nightly_job',
    location: 'data_platform',
    creationTime: secondsAgo(ago + 30),
    updateTime: secondsAgo(ago),
    steps: [
      { stepKey: step, status: 'FAILURE' },
      { stepKey: `${step}_after`, status: 'SKIPPED' },
    ],
    events: [
      { type: 'RunStartEvent' },
      { type: 'ExecutionStepStartEvent', stepKey: step, message: `Started execution of step "${step}".` },
      { type: 'ExecutionStepFailureEvent', stepKey: step, error: { message: `ValueError: ${step} broke\n`, className: 'ValueError' } },
      { type: 'RunFailureEvent', message: `Execution of run for "nightly_job" failed. Steps failed: ['${step}'].` },
    ],
    ...rest,
  };
}
