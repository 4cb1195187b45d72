import { describe, expect, it } from 'vitest';
import { buildDagsterAlert, dbtErrors, errorText } from '../../src/watch/alert.js';
import type { DagsterRunDetail, DagsterRunSummary } from '../../src/watch/dagster-client.js';
import { blockKitProblems } from '../support/fake-slack.js';

const tags = (o: Record<string, string>) => Object.entries(o).map(([key, value]) => ({ key, value }));

const run: DagsterRunSummary = {
  runId: '8d2b0c1e-5f4a-4c7b-9e1d-0a1b2c3d4e5f',
  jobName: 'edxorg_archive_job',
  status: 'FAILURE',
  creationTime: 1_700_000_000,
  startTime: 1_700_000_010,
  endTime: 1_700_000_100,
  updateTime: 1_700_000_100,
  repositoryOrigin: { repositoryLocationName: 'edxorg', repositoryName: '__repository__' },
  tags: tags({ 'dagster/schedule_name': 'edxorg_daily' }),
};

const DBT_MESSAGE = [
  'dagster_dbt.errors.DagsterDbtCliRuntimeError: The dbt CLI process with command',
  '',
  '`dbt build --select tag:daily`',
  '',
  'failed with exit code `1`. Check the stdout in the Dagster compute logs for the full information about the error.',
  '',
  'Errors parsed from dbt logs:',
  '',
  'Database Error in model stg__mitlearn__users (models/staging/stg__mitlearn__users.sql)',
  "  column \"email\" does not exist",
  '',
].join('\n');

function texts(m: { blocks: unknown[] }): string {
  return JSON.stringify(m.blocks);
}

describe('dbt errors', () => {
  it('keeps only what follows "Errors parsed from dbt logs", without the stack trace', () => {
    expect(dbtErrors(DBT_MESSAGE)).toBe('Database Error in model stg__mitlearn__users (models/staging/stg__mitlearn__users.sql)\n  column "email" does not exist');
    expect(dbtErrors(DBT_MESSAGE + '\n\nStack Trace:\n  File "x.py"')).toBe(dbtErrors(DBT_MESSAGE));
    expect(dbtErrors('ValueError: nope')).toBeUndefined();
    expect(dbtErrors('Errors parsed from dbt logs:\n\n')).toBeUndefined();
  });

  it('finds the dbt error in the cause chain too', () => {
    expect(errorText({ message: 'dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "dbt"', errorChain: [{ isExplicitLink: true, error: { message: DBT_MESSAGE } }] }, '')).toMatch(/^Database Error in model/);
    expect(errorText({ message: 'Outer', errorChain: [{ isExplicitLink: true, error: { message: 'Inner' } }] }, '')).toBe('Outer\n\nCaused by: Inner');
    expect(errorText(null, 'fallback')).toBe('fallback');
  });
});

describe('buildDagsterAlert', () => {
  const ctx = { env: 'production', dagsterUrl: 'https://pipelines.odl.mit.edu/' };

  it("has the runner's failure layout with the code location and a button to the run in Dagster", () => {
    const detail: DagsterRunDetail = {
      found: true,
      steps: [
        { stepKey: 'extract', status: 'SUCCESS' },
        { stepKey: 'dbt_build', status: 'FAILURE' },
        { stepKey: 'publish', status: 'SKIPPED' },
      ],
      stepFailures: [{ stepKey: 'dbt_build', message: 'Execution of step "dbt_build" failed.', error: { message: DBT_MESSAGE } }],
      runFailure: { message: 'Execution of run for "edxorg_archive_job" failed.', error: null },
      lastEngineEvent: null,
      truncated: false,
    };
    const m = buildDagsterAlert(run, detail, ctx);
    expect(blockKitProblems(m as unknown as Record<string, unknown>)).toEqual([]);
    expect(m.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Production Run Failure', emoji: true } });
    const fields = (m.blocks[1] as { fields: Array<{ text: string }> }).fields.map((f) => f.text);
    expect(fields).toEqual(['*Job:* `edxorg_archive_job`', '*Code location:* `edxorg`', '*Run:* `8d2b0c1e`', '*Schedule:* `edxorg_daily`', '*Steps:* 1 of 3 failed, 1 skipped']);
    const step = JSON.stringify(m.blocks[2]);
    expect(step).toContain('dbt_build');
    expect(step).toContain('Database Error in model stg__mitlearn__users');
    expect(step).not.toContain('The dbt CLI process');
    expect(m.blocks.at(-1)).toEqual({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'View run' }, url: 'https://pipelines.odl.mit.edu/runs/8d2b0c1e-5f4a-4c7b-9e1d-0a1b2c3d4e5f', action_id: 'view_run' }] });
    expect(m.text).toBe('Production Run Failure: job edxorg_archive_job in edxorg, run 8d2b0c1e: 1 failed step (dbt_build)');
  });

  it("shows the run's own failure message when no step failed", () => {
    const detail: DagsterRunDetail = {
      found: true,
      steps: [{ stepKey: 'extract', status: 'IN_PROGRESS' }],
      stepFailures: [],
      runFailure: { message: 'Run worker failed: the pod was OOMKilled.', error: null },
      lastEngineEvent: null,
      truncated: false,
    };
    const m = buildDagsterAlert({ ...run, tags: [] }, detail, ctx);
    expect(texts(m)).toContain('*The run failed:*');
    expect(texts(m)).toContain('Run worker failed: the pod was OOMKilled.');
    expect(m.text).toContain('Run worker failed');
    expect(texts(m)).not.toContain('Schedule');
  });

  it('still alerts on a run Dagster no longer has, and stays within Slack limits for huge failures', () => {
    const gone = buildDagsterAlert(run, { found: false, steps: [], stepFailures: [], runFailure: null, lastEngineEvent: null, truncated: false }, ctx);
    expect(texts(gone)).toContain('no longer has this run');
    const many: DagsterRunDetail = {
      found: true,
      steps: [],
      stepFailures: Array.from({ length: 60 }, (_, i) => ({ stepKey: `step_${i}_${'k'.repeat(300)}`, message: '', error: { message: `E${i} ` + 'x'.repeat(20_000) } })),
      runFailure: null,
      lastEngineEvent: null,
      truncated: true,
    };
    const m = buildDagsterAlert({ ...run, jobName: 'j'.repeat(5000), repositoryOrigin: { repositoryLocationName: 'l'.repeat(5000), repositoryName: '' } }, many, ctx);
    expect(blockKitProblems(m as unknown as Record<string, unknown>)).toEqual([]);
    expect(texts(m)).toContain('event log is longer than the watcher reads');
    expect(texts(m)).toContain('more failed steps not shown');
  });
  it('names what Dagster logged last when a killed run worker left no step failure, and the attempt of a retry', () => {
    const detail: DagsterRunDetail = {
      found: true,
      steps: [{ stepKey: 'worker_dies', status: 'IN_PROGRESS' }],
      stepFailures: [],
      runFailure: { message: 'This run has been marked as failed from outside the execution context.', error: null },
      lastEngineEvent: { message: '[DagsterApiServer] Run execution process for 8d2b was terminated by signal 9 (SIGKILL).', error: null },
      truncated: false,
    };
    const retried = tags({ 'dagster/retry_number': '2', 'dagster/root_run_id': '11111111-2222-4333-8444-555555555555' });
    const m = buildDagsterAlert({ ...run, tags: retried }, detail, { ...ctx, note: 'Dagster took its retry back.' });
    expect(texts(m)).toContain('marked as failed from outside the execution context.\\n\\n[DagsterApiServer] Run execution process for 8d2b was terminated by signal 9 (SIGKILL).');
    expect(texts(m)).toContain('*Attempt:* attempt 3 (retry 2 of run 11111111), the last');
    expect(m.blocks.at(-2)).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Dagster took its retry back.' }] });
    // With a step failure, the engine's last word is not the reason.
    const withStep = buildDagsterAlert(run, { ...detail, stepFailures: [{ stepKey: 'worker_dies', message: '', error: { message: 'ValueError: x' } }] }, ctx);
    expect(texts(withStep)).not.toContain('SIGKILL');
    expect(texts(withStep)).not.toContain('Attempt');
  });
});
