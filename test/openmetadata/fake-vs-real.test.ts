/**
 * The fake `metadata` CLI against the real one: the same scenarios (a server of another
 * major.minor, a refused JWT) run through the fake, and what the runner parses from its
 * output (init error, version mismatch, failure message) equals what it parses from the
 * real 1.7.7.4's output for the same case (captured live by test/openmetadata/real-cli.test.ts,
 * kept in test/fixtures/openmetadata-cli/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { OutputTail, failureMessage } from '../../src/handlers/openmetadata/failure.js';
import { SummaryParser } from '../../src/handlers/openmetadata/summary.js';
import { renderWorkflow, workflowYaml } from '../../src/handlers/openmetadata/render.js';
import { FAKE_CLI, fakeJwt, startFakeOpenMetadataServer, type FakeOpenMetadataServer } from '../support/fake-openmetadata/index.js';
import { trinoConfig } from './helpers.js';

const JWT = fakeJwt('compare');
let server: FakeOpenMetadataServer;
let dir: string;

/** What the runner reads from one output. */
function parsed(lines: string[]) {
  const p = new SummaryParser();
  const t = new OutputTail();
  for (const l of lines) {
    p.push(l);
    t.push(l);
  }
  return { initError: t.initError, versionMismatch: t.versionMismatch, message: failureMessage({ exitCode: 1, what: 'metadata ingest' }, t, p.result()) };
}

const real = (name: string) => parsed(readFileSync(path.join(__dirname, '../fixtures/openmetadata-cli', name), 'utf8').trimEnd().split('\n'));

async function fake(env: Record<string, string>) {
  const file = path.join(dir, 'workflow.yaml');
  writeFileSync(file, workflowYaml(renderWorkflow(trinoConfig(), server.url).workflow, ' compare'));
  const r = await execa(FAKE_CLI, ['ingest', '-c', file], { reject: false, env: { RUNNER_OPENMETADATA_JWT: JWT, FAKE_OM_VERSION: '1.7.7.4', ...env } });
  expect(r.exitCode).toBe(1);
  return parsed(`${r.stdout}\n${r.stderr}`.split('\n'));
}

beforeAll(async () => {
  server = await startFakeOpenMetadataServer({ jwt: JWT, version: '1.7.7' });
  dir = mkdtempSync(path.join(tmpdir(), 'om-compare-'));
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the fake CLI prints what the real one prints (as the runner parses it)', () => {
  it('a server of another major.minor', async () => {
    server.setPythonClient({ version: '1.6.2' });
    server.setVersion('1.6.2');
    try {
      expect(await fake({})).toEqual(real('1.7.7.4-mismatch.log'));
    } finally {
      server.setVersion('1.7.7');
      server.setPythonClient(undefined);
    }
  });

  it('a refused JWT', async () => {
    expect(await fake({ RUNNER_OPENMETADATA_JWT: fakeJwt('refused') })).toEqual(real('1.7.7.4-unauthorized.log'));
  });
});
