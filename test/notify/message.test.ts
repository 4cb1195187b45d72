import { describe, expect, it } from 'vitest';
import { type AlertRun, type Block, MAX_STEP_SECTIONS, buildFailureMessage, buildRecoveredMessage, excerpt, scheduleOf, shortRunId } from '../../src/notify/message.js';
import { blockKitProblems } from '../support/fake-slack.js';

const RUN_ID = '1b2c3d4e-aaaa-bbbb-cccc-0123456789ab';

function run(over: Partial<AlertRun> = {}): AlertRun {
  return {
    id: RUN_ID,
    status: 'failure',
    env: 'production',
    job: 'critical_metadata_ingestion',
    selection: 'openmetadata/trino/metadata or openmetadata/dbt/metadata',
    error: null,
    trigger: { type: 'schedule', schedule: 'critical_metadata_schedule', tick: '2024-05-01T04:00:00Z' },
    steps: [
      { key: 'openmetadata/trino/metadata', status: 'failure', attempts: 3, error: 'Workflow failed: 12 errors\nTraceback: connection refused' },
      { key: 'openmetadata/trino/lineage', status: 'skipped' },
      { key: 'openmetadata/dbt/metadata', status: 'success' },
    ],
    ...over,
  };
}

const texts = (blocks: Block[]) => JSON.stringify(blocks);

describe('failure message', () => {
  it('has the header, the job and short run id, a section per failed step and a button', () => {
    const m = buildFailureMessage(run(), { uiUrl: 'https://pipelines.odl.mit.edu/' });
    expect(blockKitProblems(m as never)).toEqual([]);
    expect(m.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Production Run Failure', emoji: true } });
    const summary = m.blocks[1] as Extract<Block, { type: 'section' }>;
    expect(summary.fields!.map((f) => f.text)).toEqual(['*Job:* `critical_metadata_ingestion`', '*Run:* `1b2c3d4e`', '*Schedule:* `critical_metadata_schedule`', '*Steps:* 1 of 3 failed, 1 skipped']);
    const step = m.blocks[2] as Extract<Block, { type: 'section' }>;
    expect(step.text!.text).toBe(':x: *`openmetadata/trino/metadata`* failed after 3 attempts\n```Workflow failed: 12 errors\nTraceback: connection refused```');
    expect(m.blocks[3]).toEqual({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'View run' }, url: `https://pipelines.odl.mit.edu/runs/${RUN_ID}`, action_id: 'view_run' }] });
    expect(m.blocks).toHaveLength(4);
    expect(m.text).toBe('Production Run Failure: job critical_metadata_ingestion, run 1b2c3d4e: 1 failed step (openmetadata/trino/metadata)');
  });

  it('shows the selection when the run is not a job, and no button without ui_url', () => {
    const m = buildFailureMessage(run({ job: null, trigger: { type: 'manual' }, env: 'qa' }));
    expect(m.blocks[0]).toMatchObject({ text: { text: 'Qa Run Failure' } });
    expect(texts(m.blocks)).toContain('*Selection:* `openmetadata/trino/metadata or openmetadata/dbt/metadata`');
    expect(m.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it("shows the run's own error when no step failed", () => {
    const m = buildFailureMessage(run({ error: 'the runner exited (pid 4242 is gone)', steps: [{ key: 'a/b', status: 'pending' }] }));
    expect(blockKitProblems(m as never)).toEqual([]);
    const last = m.blocks[m.blocks.length - 1] as Extract<Block, { type: 'section' }>;
    expect(last.text!.text).toBe('*The run failed before any step started:*\n```the runner exited (pid 4242 is gone)```');
    const none = buildFailureMessage(run({ error: null, steps: [] }));
    expect(texts(none.blocks)).toContain('The run failed without an error message (the runner may have died).');
  });

  it('stays within Block Kit limits with many failed steps and huge errors, and says what was left out', () => {
    const steps = Array.from({ length: 120 }, (_, i) => ({ key: `group/asset_${i}`, status: 'failure', attempts: 1, error: `error ${i} ` + 'x<&>'.repeat(5000) + ' THE END' }));
    const m = buildFailureMessage(run({ steps, env: 'p'.repeat(300) }), { uiUrl: 'http://localhost:3070' });
    expect(blockKitProblems(m as never)).toEqual([]);
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    expect((m.blocks[0] as Extract<Block, { type: 'header' }>).text.text.length).toBeLessThanOrEqual(150);
    const stepSections = m.blocks.filter((b) => b.type === 'section' && b.text?.text.startsWith(':x:'));
    expect(stepSections).toHaveLength(MAX_STEP_SECTIONS);
    const note = m.blocks.find((b) => b.type === 'context') as Extract<Block, { type: 'context' }>;
    expect(note.elements[0]!.text).toMatch(/^…and 100 more failed steps not shown: group\/asset_20, group\/asset_21/);
    // Each excerpt keeps its start and its end, and says how much was cut.
    const first = (stepSections[0] as Extract<Block, { type: 'section' }>).text!.text;
    expect(first).toContain('error 0 x&lt;&amp;&gt;');
    expect(first).toContain('THE END```');
    expect(first).toMatch(/… \(\d+ characters cut\) …/);
    expect(m.blocks[m.blocks.length - 1]!.type).toBe('actions');
    expect(m.text.length).toBeLessThanOrEqual(3000);
  });

  it('steps that failed with the same error share one section that names and counts them', () => {
    const cause = 'preflight check failed: openmetadata CLI: `metadata` not found';
    const steps = ['a', 'b', 'c'].map((k) => ({ key: `om/${k}/metadata`, status: 'failure', attempts: 1, error: cause }));
    const m = buildFailureMessage(run({ steps: [...steps, { key: 'om/d/metadata', status: 'failure', attempts: 2, error: 'other' }, { key: 'om/a/lineage', status: 'skipped' }] }));
    expect(blockKitProblems(m as never)).toEqual([]);
    const sections = m.blocks.filter((b) => b.type === 'section' && b.text?.text.startsWith(':x:')).map((b) => (b as Extract<Block, { type: 'section' }>).text!.text);
    expect(sections).toEqual([
      ':x: *3 steps* failed with the same error: `om/a/metadata`, `om/b/metadata`, `om/c/metadata`\n```preflight check failed: openmetadata CLI: `metadata` not found```',
      ':x: *`om/d/metadata`* failed after 2 attempts\n```other```',
    ]);
    expect(texts(m.blocks).split('not found').length - 1).toBe(1);
    expect((m.blocks[1] as Extract<Block, { type: 'section' }>).fields!.at(-1)!.text).toBe('*Steps:* 4 of 5 failed, 1 skipped');
  });

  it('names the run a retry re-executes', () => {
    const m = buildFailureMessage(run({ trigger: { type: 'retry', retry_of: '3f2a9c1e-8d0b-4f7e-9a51-0c6de2b4a7f3' } }));
    expect((m.blocks[1] as Extract<Block, { type: 'section' }>).fields!.map((f) => f.text)).toContain('*Retry of:* `3f2a9c1e`');
    expect(texts(buildFailureMessage(run()).blocks)).not.toContain('Retry of');
  });

  it('one huge error fills at most one section', () => {
    const m = buildFailureMessage(run({ steps: [{ key: 'k', status: 'failure', error: 'y'.repeat(100_000) }] }));
    expect(blockKitProblems(m as never)).toEqual([]);
    const s = m.blocks[2] as Extract<Block, { type: 'section' }>;
    expect(s.text!.text.length).toBeLessThanOrEqual(3000);
    expect(s.text!.text.length).toBeGreaterThan(2500);
  });

  it('escapes mrkdwn and cannot break out of the code block', () => {
    const m = buildFailureMessage(run({ steps: [{ key: 'k', status: 'failure', error: 'a <@U123> & ``` *bold*' }] }));
    const s = (m.blocks[2] as Extract<Block, { type: 'section' }>).text!.text;
    expect(s).toContain('a &lt;@U123&gt; &amp; ');
    expect(s.match(/```/g)).toHaveLength(2);
  });
});

describe('helpers', () => {
  it('excerpt never cuts an entity in half', () => {
    for (let max = 60; max < 120; max++) {
      const e = excerpt('&'.repeat(200), max);
      expect(e.length).toBeLessThanOrEqual(max);
      expect(e.replace(/&amp;/g, '')).toMatch(/^\n… \(\d+ characters cut\) …\n$/);
    }
  });

  it('short run ids and schedules', () => {
    expect(shortRunId(RUN_ID)).toBe('1b2c3d4e');
    expect(scheduleOf({ type: 'schedule', schedule: 's1', tick: 'x' })).toBe('s1');
    expect(scheduleOf({ type: 'manual' })).toBeUndefined();
    expect(scheduleOf('schedule:nightly')).toBe('nightly');
    expect(scheduleOf('manual')).toBeUndefined();
  });
});

describe('recovered message', () => {
  it('names the schedule, the run and the failed run before it', () => {
    const m = buildRecoveredMessage(run({ status: 'success' }), { id: '99999999-0000-0000-0000-000000000000' }, { uiUrl: 'http://localhost:3070' });
    expect(blockKitProblems(m as never)).toEqual([]);
    expect(m.blocks[0]).toMatchObject({ text: { text: 'Production Run Recovered' } });
    expect(texts(m.blocks)).toContain('Succeeded after the previous run `99999999` failed.');
    expect(m.text).toBe('Production Run Recovered: schedule critical_metadata_schedule, run 1b2c3d4e succeeded after run 99999999 failed');
  });
});
