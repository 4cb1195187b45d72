import { describe, expect, it } from 'vitest';
import path from 'node:path';
import type { RunContext, StepResult } from '../../src/handlers/handler.js';
import type { OpenMetadataConfig } from '../../src/handlers/openmetadata/types.js';
import { noteSharedWorkflows, runShared } from '../../src/handlers/openmetadata/shared-run.js';
import { loadDefinitionsSync } from '../../src/definitions/load.js';
import type { AssetDef } from '../../src/definitions/model.js';
import { PROJECT_ROOT } from '../support/bundle.js';
import { asset, env, trinoConfig } from './helpers.js';

const dbt = () => ({ source: { type: 'dbt', serviceName: 'starburst_galaxy', sourceConfig: { config: { type: 'DBT', dbtConfigSource: { dbtConfigType: 'local', dbtManifestFilePath: '/t/manifest.json' } } } } });

function ctx(a: AssetDef, runId: string, logs: string[] = [], envName = 'dev', signal = new AbortController().signal): RunContext<OpenMetadataConfig> {
  return { asset: a, config: a.config as unknown as OpenMetadataConfig, env: env(undefined, {}, envName), runId, attempt: 1, signal, log: (l: string) => logs.push(l) } as unknown as RunContext<OpenMetadataConfig>;
}

/** A fake workflow run: counts calls, ends when `release` is called (or at once). */
function fakeRun(outcome: StepResult, hold = false) {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const run = async () => {
    calls++;
    if (hold) await gate;
    return structuredClone(outcome);
  };
  return { run, calls: () => calls, release: () => release() };
}

const OK: StepResult = { ok: true, exitCode: 0, metadata: { pipeline_type: 'DBT', records_processed: 7 } };

describe('one run of a workflow shared by assets with the same config', () => {
  it('runs the CLI once; the second asset is recorded with its outcome and materialized_by', async () => {
    const m = asset('openmetadata/dbt/metadata', dbt());
    const l = asset('openmetadata/dbt/lineage', dbt());
    expect(noteSharedWorkflows('run-1', 'dev', [m, l, asset('t/m', trinoConfig())])).toEqual(
      new Map([
        ['openmetadata/dbt/metadata', ['openmetadata/dbt/lineage', 'openmetadata/dbt/metadata']],
        ['openmetadata/dbt/lineage', ['openmetadata/dbt/lineage', 'openmetadata/dbt/metadata']],
      ]),
    );
    const f = fakeRun(OK);
    const first = await runShared(ctx(m, 'run-1'), f.run);
    expect(first).toEqual({ ...OK, metadata: { ...OK.metadata, materializes: ['openmetadata/dbt/lineage', 'openmetadata/dbt/metadata'] } });
    const logs: string[] = [];
    const second = await runShared(ctx(l, 'run-1', logs), f.run);
    expect(f.calls()).toBe(1);
    expect(second).toEqual({ ...first, metadata: { ...first.metadata, materialized_by: 'openmetadata/dbt/metadata' } });
    expect(logs).toEqual(['the same workflow as openmetadata/dbt/metadata: its run materializes this asset too (no second CLI run)']);
  });

  it('a second asset that starts while the run is going waits for it', async () => {
    const f = fakeRun(OK, true);
    const a = runShared(ctx(asset('x/a', dbt()), 'run-2'), f.run);
    let bDone = false;
    const b = runShared(ctx(asset('x/b', dbt()), 'run-2'), f.run).then((r) => ((bDone = true), r));
    await new Promise((r) => setTimeout(r, 50));
    expect(bDone).toBe(false);
    f.release();
    expect((await b).metadata).toMatchObject({ materialized_by: 'x/a', records_processed: 7 });
    expect((await a).ok).toBe(true);
    expect(f.calls()).toBe(1);
  });

  it('a waiting step that is canceled (or times out) ends at once, without waiting for the shared run', async () => {
    const f = fakeRun(OK, true);
    const a = runShared(ctx(asset('w/a', dbt()), 'run-7'), f.run);
    const ac = new AbortController();
    let bDone = false;
    const b = runShared(ctx(asset('w/b', dbt()), 'run-7', [], 'dev', ac.signal), f.run).then((r) => ((bDone = true), r));
    await new Promise((r) => setTimeout(r, 20));
    expect(bDone).toBe(false);
    ac.abort('cancel');
    expect(await b).toEqual({ ok: false, error: 'canceled while waiting for the run of w/a' });
    expect(f.calls()).toBe(1);
    f.release();
    expect((await a).ok).toBe(true);
  });

  it('when the shared run failed, the other asset runs the workflow itself', async () => {
    const failing = fakeRun({ ok: false, exitCode: 1, error: 'boom' });
    expect((await runShared(ctx(asset('y/a', dbt()), 'run-3'), failing.run)).ok).toBe(false);
    const logs: string[] = [];
    const again = fakeRun(OK);
    expect(await runShared(ctx(asset('y/b', dbt()), 'run-3', logs), again.run)).toEqual(OK);
    expect(again.calls()).toBe(1);
    expect(logs[1]).toBe('the run of y/a failed: running the workflow for y/b');
  });

  it('shares nothing across runs, environments, other configs, or the attempts of one asset', async () => {
    const f = fakeRun(OK);
    await runShared(ctx(asset('z/a', dbt()), 'run-4'), f.run);
    await runShared(ctx(asset('z/b', dbt()), 'run-5'), f.run);
    await runShared(ctx(asset('z/c', dbt()), 'run-4', [], 'qa'), f.run);
    await runShared(ctx(asset('z/d', trinoConfig()), 'run-4'), f.run);
    await runShared(ctx(asset('z/a', dbt()), 'run-4'), f.run);
    expect(f.calls()).toBe(5);
  });

  it('in the project, exactly the two dbt assets share a workflow', () => {
    const r = loadDefinitionsSync(path.join(PROJECT_ROOT, 'pipelines'), { cacheDir: false });
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    const groups = noteSharedWorkflows('run-6', 'dev', [...r.value.defs.assets.values()].filter((a) => a.handler === 'openmetadata'));
    expect([...new Set([...groups.values()].map((g) => g.join(' ')))]).toEqual(['openmetadata/dbt/lineage openmetadata/dbt/metadata']);
  });
});
