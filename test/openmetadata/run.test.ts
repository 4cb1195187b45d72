import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunContext, StepResult } from '../../src/handlers/handler.js';
import { StepContainment } from '../../src/execution/containment/step.js';
import { closeRunCgroups } from '../../src/execution/containment/cgroup-pool.js';
import type { OpenMetadataConfig } from '../../src/handlers/openmetadata/types.js';
import { openmetadataHandler } from '../../src/handlers/openmetadata/index.js';
import { pidAlive } from '../../src/execution/process-tree.js';
import { FAKE_CLI, fakeJwt, startFakeOpenMetadataServer, type FakeOpenMetadataServer } from '../support/fake-openmetadata/index.js';
import { asset, env, trinoConfig } from './helpers.js';

const JWT = fakeJwt('run');
let server: FakeOpenMetadataServer;
let scratch: string;
const FAKE_VARS = ['FAKE_OM_LEAVE_CHILD', 'FAKE_OM_MODE', 'FAKE_OM_FAIL_SERVICE', 'FAKE_OM_ONLY', 'FAKE_OM_VERSION', 'FAKE_OM_FLOOD_LINES', 'FAKE_OM_SPAWN_CHILD', 'FAKE_OM_PIDFILE', 'FAKE_OM_RECORD', 'RUNNER_KILL_GRACE'];

beforeAll(async () => {
  server = await startFakeOpenMetadataServer({ jwt: JWT });
  scratch = mkdtempSync(path.join(tmpdir(), 'om-run-'));
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});
afterEach(() => {
  for (const v of FAKE_VARS) delete process.env[v];
});

interface Ran {
  result: StepResult;
  lines: string[];
  tracked: number[];
  untracked: number[];
  records: Array<Record<string, any>>;
}

async function run(config: Record<string, unknown>, o: { secrets?: Record<string, string>; cli?: [string, ...string[]]; signal?: AbortSignal; onLine?: (l: string) => void; mask?: (s: string) => string } = {}): Promise<Ran> {
  const record = path.join(scratch, `record-${Math.random().toString(36).slice(2)}.jsonl`);
  process.env.FAKE_OM_RECORD = record;
  const lines: string[] = [];
  const tracked: number[] = [];
  const untracked: number[] = [];
  const recorder = { recordProcess: (_r: string, _k: string, p: number) => tracked.push(p), forgetProcess: (_r: string, _k: string, p: number) => untracked.push(p) };
  const contain = new StepContainment({ runId: '3f1c2a9e-0000-4000-8000-000000000001', key: 'openmetadata/trino/metadata', attempt: 1, recorder });
  const ctx: RunContext<OpenMetadataConfig> = {
    asset: asset('openmetadata/trino/metadata', config),
    config: config as unknown as OpenMetadataConfig,
    env: env(server.url, { cli: o.cli ?? [FAKE_CLI] }),
    projectDir: scratch,
    runId: '3f1c2a9e-0000-4000-8000-000000000001',
    attempt: 1,
    signal: o.signal ?? new AbortController().signal,
    log: (l) => {
      lines.push(l);
      o.onLine?.(l);
    },
    mask: o.mask ?? ((s) => s.split(JWT).join('***')),
    contain,
    stepEnv: { ...(process.env as Record<string, string>) },
    childEnv: { PATH: process.env.PATH ?? '' },
    secrets: o.secrets ?? { openmetadata_jwt: JWT },
  };
  const result = await openmetadataHandler.run(ctx);
  closeRunCgroups(ctx.runId); // what the executor does when a run ends
  const records = existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
  return { result, lines, tracked, untracked, records };
}

function workdirsOfThisProcess(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith(`runner-om-${process.pid}-`));
}

describe('running a workflow with the (fake) metadata CLI', () => {
  it('succeeds on exit 0, streams the output, stores the summary as metadata, and removes its directory', async () => {
    const before = workdirsOfThisProcess();
    const r = await run(trinoConfig());
    expect(r.result.ok).toBe(true);
    expect(r.result.exitCode).toBe(0);
    expect(r.result.warnings).toBeUndefined();
    expect(r.result.metadata).toMatchObject({
      command: 'metadata ingest',
      pipeline_type: 'DatabaseMetadata',
      summary_form: 'current',
      records_processed: 12,
      errors: 0,
      workflow_success_pct: 100,
      steps: [
        { name: 'Trino', processed: 12, updated: 0, warnings: 0, errors: 0, success_pct: 100 },
        { name: 'OpenMetadata', processed: 12, errors: 0, success_pct: 100 },
      ],
      exit_code: 0,
    });
    expect(r.result.metadata).toMatchObject({ outcome: 'success' });
    // As log_ansi_encoded_string logs it: bold cyan, then ESC[0m.
    expect(r.lines.some((l) => /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO     \{metadata\.Utils:logger:201\} - \x1b\[1m\x1b\[36;1mWorkflow Success %: 100\.0\x1b\[0m$/.test(l))).toBe(true);
    // The CLI got `ingest -c <private dir>/workflow.yaml`, the JWT through its environment, and the server accepted it.
    const start = r.records.find((x) => x.event === 'start')!;
    expect(start.argv[0]).toBe('ingest');
    expect(start.argv[1]).toBe('-c');
    expect(start.argv[2]).toMatch(new RegExp(`/runner-om-${process.pid}-[A-Za-z0-9]+/workflow\\.yaml$`));
    expect(start.jwt_env).toBe(true);
    expect(r.records.find((x) => x.event === 'authorized')).toMatchObject({ status: 200 });
    expect(server.requests.filter((q) => q.path === '/api/v1/users/loggedInUser').every((q) => q.authorized)).toBe(true);
    expect(JSON.stringify(r.records)).not.toContain(JWT);
    expect(existsSync(path.dirname(start.argv[2]))).toBe(false);
    expect(workdirsOfThisProcess()).toEqual(before);
    expect(r.tracked).toHaveLength(1);
    expect(r.untracked).toEqual(r.tracked);
  });

  it('picks the sub-command from the pipeline type (the fake refuses a wrong one)', async () => {
    const prof = trinoConfig({ processor: { type: 'orm-profiler', config: {} } });
    (prof.source as any).sourceConfig.config = { type: 'Profiler' };
    const p = await run(prof);
    expect(p.result.ok).toBe(true);
    expect(p.records[0]!.sub).toBe('profile');
    expect((p.result.metadata!.steps as any[]).map((s) => s.name)).toEqual(['Trino', 'Profiler', 'OpenMetadata']);

    const usage = trinoConfig();
    (usage.source as any).type = 'trino-usage';
    (usage.source as any).sourceConfig.config = { type: 'DatabaseUsage', stageFileLocation: path.join(scratch, 'usage') };
    const u = await run(usage);
    expect(u.result.ok).toBe(true);
    expect(u.records[0]!.sub).toBe('usage');
  });

  it('fails on a non-zero exit with the meaningful part: summary, listed failures, the exception', async () => {
    process.env.FAKE_OM_MODE = 'fail';
    const r = await run(trinoConfig());
    expect(r.result.ok).toBe(false);
    expect(r.result.exitCode).toBe(1);
    expect(r.result.metadata).toMatchObject({ errors: 3, records_processed: 9, failures_listed: 3, workflow_success_pct: 87.5 });
    const lines = r.result.error!.split('\n');
    expect(lines[0]).toBe('`metadata ingest` exited with code 1');
    expect(lines[1]).toMatch(/^summary: Trino: 9 processed, 0 updated, 0 warnings, 3 errors, 75%; OpenMetadata: 9 processed, 0 updated, 0 warnings, 0 errors, 100%; workflow 87\.5% in [\d.]+s$/);
    expect(lines[2]).toBe('failures (3):');
    expect(lines[3]).toBe('- Trino starburst_galaxy.ol_warehouse.table_1: Unexpected exception to yield table [table_1]: (trino.exceptions.TrinoUserError) Access Denied: Cannot select from table_1');
    expect(lines[lines.length - 1]).toBe('metadata.config.common.WorkflowExecutionError: Trino reported errors: Processed records: 9; Updated records: 0; Warnings: 0; Errors: 3');
    expect(r.result.error).not.toContain('Stack Trace');
    expect(r.result.error!.length).toBeLessThan(2800);
  });

  it('succeeds with warnings when the summary counts errors but the CLI exits 0', async () => {
    process.env.FAKE_OM_MODE = 'partial';
    const r = await run(trinoConfig());
    expect(r.result.ok).toBe(true);
    expect(r.result.warnings).toEqual(['Workflow finished with failures (partial success: workflow 99.5%, above the success threshold)', 'Trino: 1 error (success 98.99%)', 'Trino starburst_galaxy.ol_warehouse.odd_table: Unexpected exception to yield table [odd_table]: column type not understood']);
    expect(r.result.metadata).toMatchObject({ outcome: 'partial', exit_code: 0 });
  });

  it('keeps a summary printed before a crash (a successful ingestion that still exits non-zero)', async () => {
    process.env.FAKE_OM_MODE = 'crash-after-summary';
    const r = await run(trinoConfig());
    expect(r.result.ok).toBe(false);
    expect(r.result.metadata).toMatchObject({ workflow_success_pct: 100, exit_code: 1 });
    expect(r.result.error).toMatch(/summary: Trino: 12 processed.*workflow 100%/);
    expect(r.result.error!.split('\n').pop()).toBe("AttributeError: 'NoneType' object has no attribute 'encode'");
  });

  it('says both versions and what to install when CLI and server differ', async () => {
    server.setVersion('1.11.2');
    try {
      const r = await run(trinoConfig());
      expect(r.result.ok).toBe(false);
      expect(r.result.error!.split('\n')[1]).toBe("Server version is 1.11.2 vs. Client version 1.10.4. Major and minor versions should match. Install openmetadata-ingestion~=1.11.0 (or the openmetadata/ingestion image of the server's version).");
    } finally {
      server.setVersion('1.10.4');
    }
  });

  it('fails when the server rejects the JWT, and never shows the token', async () => {
    const wrong = fakeJwt('wrong');
    const r = await run(trinoConfig(), { secrets: { openmetadata_jwt: wrong } });
    expect(r.result.ok).toBe(false);
    // As the real CLI prints it (test/fixtures/openmetadata-cli/1.7.7.4-unauthorized.log).
    expect(r.result.error!.split('\n')).toEqual(['`metadata ingest` exited with code 1', 'Error initializing metadata: Not Authorized! Token verification failed']);
    expect(r.result.error).not.toContain(wrong);
  });

  it('fails before starting anything when the JWT is missing or could not be carried', async () => {
    const none = await run(trinoConfig(), { secrets: {} });
    expect(none.result).toEqual({ ok: false, error: 'the OpenMetadata JWT (secret `openmetadata_jwt`) was not resolved for this step' });
    expect(none.records).toEqual([]);
    const bad = await run(trinoConfig(), { secrets: { openmetadata_jwt: 'has "quotes"' } });
    expect(bad.result.error).toMatch(/holds characters a JWT cannot hold/);
  });

  it('says so when the CLI cannot be started', async () => {
    const r = await run(trinoConfig(), { cli: [path.join(scratch, 'no-such-metadata')] });
    expect(r.result.ok).toBe(false);
    expect(r.result.error).toMatch(/^could not run `.*no-such-metadata`: .*Install openmetadata-ingestion/);
  });

  it('streams a flood of output, including a 200 kB line, and still reads the summary', async () => {
    process.env.FAKE_OM_MODE = 'flood';
    process.env.FAKE_OM_FLOOD_LINES = '30000';
    let count = 0;
    const r = await run(trinoConfig(), { onLine: () => count++ });
    expect(r.result.ok).toBe(true);
    expect(count).toBeGreaterThan(30_000);
    expect(r.result.metadata).toMatchObject({ workflow_success_pct: 100 });
  });

  it('keeps the JWT out of argv and out of the file; on abort kills the whole tree, even one ignoring SIGTERM, and removes the file', async () => {
    process.env.FAKE_OM_MODE = 'ignore-sigterm';
    process.env.FAKE_OM_SPAWN_CHILD = '1';
    process.env.RUNNER_KILL_GRACE = '300ms';
    const pidfile = path.join(scratch, `pids-${Date.now()}`);
    process.env.FAKE_OM_PIDFILE = pidfile;
    const ac = new AbortController();
    let seen: { file: string; text: string; fileMode: number; dirMode: number; cmdline: string } | undefined;
    const running = run(trinoConfig(), {
      signal: ac.signal,
      onLine: (l) => {
        if (!seen && l.includes('Processing records')) {
          const rec = readFileSync(process.env.FAKE_OM_RECORD!, 'utf8').trim().split('\n').map((x) => JSON.parse(x));
          const start = rec.find((x) => x.event === 'start');
          const file = start.config as string;
          seen = { file, text: readFileSync(file, 'utf8'), fileMode: statSync(file).mode & 0o777, dirMode: statSync(path.dirname(file)).mode & 0o777, cmdline: readFileSync(`/proc/${start.pid}/cmdline`, 'utf8') };
          setTimeout(() => ac.abort('timeout'), 100);
        }
      },
    });
    const r = await running;
    expect(seen).toBeDefined();
    expect(seen!.text).toContain('jwtToken: "${RUNNER_OPENMETADATA_JWT}"');
    expect(seen!.text).not.toContain(JWT);
    expect(seen!.cmdline).not.toContain(JWT);
    expect(seen!.fileMode).toBe(0o600);
    expect(seen!.dirMode).toBe(0o700);
    expect(r.result.ok).toBe(false);
    expect(r.result.error).toMatch(/^terminated; `metadata ingest` was killed by SIGKILL/);
    const pids = readFileSync(pidfile, 'utf8').trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    for (const p of pids) expect(pidAlive(p)).toBe(false);
    expect(existsSync(path.dirname(seen!.file))).toBe(false);
    expect(r.untracked).toEqual(r.tracked);
  });

  it('ends when the CLI exits even if it left a process holding its output, and that process goes too', async () => {
    process.env.FAKE_OM_LEAVE_CHILD = '1';
    const pidfile = path.join(scratch, `left-${Date.now()}`);
    process.env.FAKE_OM_PIDFILE = pidfile;
    const r = await run(trinoConfig());
    expect(r.result.ok).toBe(true);
    const pids = readFileSync(pidfile, 'utf8').trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    for (const p of pids) expect(pidAlive(p)).toBe(false);
  });

  it('declares the JWT reference as a secret the executor must resolve', () => {
    expect(openmetadataHandler.secretRefs!(asset('a', {}), env())).toEqual(['${secret:openmetadata_jwt}']);
    expect(openmetadataHandler.secretRefs!(asset('a', {}), env('http://x/api', { jwt: '${secret:other}' }))).toEqual(['${secret:other}']);
  });
});
