import { afterEach, describe, expect, it } from 'vitest';
import type { NotificationDef, SecretDef } from '../../src/definitions/model.js';
import type { RunEvent } from '../../src/execution/events.js';
import { Notifier, notifierSink, type AlertOutcome } from '../../src/notify/notifier.js';
import type { AlertRun } from '../../src/notify/message.js';
import { SecretResolver } from '../../src/secrets/resolver.js';
import { Masker } from '../../src/secrets/masker.js';
import { FakeSlack } from '../support/fake-slack.js';
import { FakeVault } from '../support/fake-vault.js';

const pos = { file: 'pipelines/n.yaml', line: 1, col: 1 };
const SECRET = 'jwt-secret-value-42';
const secrets: SecretDef[] = [
  { name: 'slack_webhook', env: 'SLACK_WEBHOOK_URL', vault: { mount: 'secret-data', path: 'dagster/slack', field: 'webhook_url', kv: 1 }, pos },
  { name: 'openmetadata_jwt', env: 'OPENMETADATA_JWT_TOKEN', pos },
];
const failureSlack: NotificationDef = { name: 'run_failure_slack', on: ['run_failure', 'run_recovered'], slack: { webhook: '${secret:slack_webhook}' }, pos };

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function failedRun(over: Partial<AlertRun> = {}): AlertRun {
  return {
    id: 'abcdef12-3456-7890-abcd-ef1234567890',
    status: 'failure',
    env: 'production',
    job: 'critical_metadata_ingestion',
    selection: 'job:critical_metadata_ingestion',
    error: null,
    trigger: { type: 'schedule', schedule: 'critical_metadata_schedule', tick: '2024-01-01T00:00:00Z' },
    steps: [{ key: 'openmetadata/trino/metadata', status: 'failure', attempts: 2, error: `401 Unauthorized for token ${SECRET} (b64 ${Buffer.from(SECRET).toString('base64')})` }],
    alert: null,
    ...over,
  };
}

function sink(): { text: string; write(s: string): void } {
  return {
    text: '',
    write(s: string) {
      this.text += s;
    },
  };
}

async function setup(opts: { webhookEnv?: boolean; notifications?: NotificationDef[]; vault?: string } = {}) {
  const slack = await FakeSlack.start();
  open.push(slack);
  const processEnv: Record<string, string | undefined> = { OPENMETADATA_JWT_TOKEN: SECRET, VAULT_TOKEN: 'hvs.notifier' };
  if (opts.webhookEnv !== false) processEnv.SLACK_WEBHOOK_URL = slack.url;
  const masker = new Masker();
  const resolver = new SecretResolver({ secrets, env: { name: 'production', vault: opts.vault ? { address: opts.vault } : undefined }, processEnv, masker });
  await resolver.resolve(['openmetadata_jwt']); // the run used the JWT, so the masker knows it
  const out = sink();
  const notifier = new Notifier({
    notifications: opts.notifications ?? [failureSlack],
    env: { name: 'production', vars: { ui_url: 'https://pipelines.example.org' } },
    resolver,
    processEnv,
    out,
    delivery: { sleep: async () => undefined, timeoutMs: 2000 },
  });
  return { slack, notifier, out, masker };
}

describe('Notifier', () => {
  it('sends one masked alert per failed run, and says so', async () => {
    const { slack, notifier, out } = await setup();
    const [a, b] = await Promise.all([notifier.runEnded(failedRun()), notifier.runEnded(failedRun())]);
    expect(a).toMatchObject({ status: 'sent', detail: 'run_failure_slack: sent to Slack' });
    expect(a.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(b).toEqual(a);
    expect(await notifier.runEnded(failedRun())).toEqual(a);
    expect(slack.received).toHaveLength(1);
    const payload = JSON.stringify(slack.received[0]!.payload);
    expect(slack.received[0]!.problems).toEqual([]);
    expect(payload).toContain('Production Run Failure');
    expect(payload).toContain('401 Unauthorized for token *** (b64 ***)');
    expect(payload).not.toContain(SECRET);
    expect(payload).toContain('https://pipelines.example.org/runs/abcdef12-3456-7890-abcd-ef1234567890');
    expect(JSON.stringify(a)).not.toContain(slack.url);
    expect(out.text).toBe('');
  });

  it('does not alert again for a run whose record says the alert went out', async () => {
    const { slack, notifier } = await setup();
    const o = await notifier.runEnded(failedRun({ alert: { status: 'sent', detail: 'earlier', at: '2024-01-01T00:00:00Z' } }));
    expect(o).toEqual({ status: 'sent', detail: 'earlier', at: '2024-01-01T00:00:00Z' });
    expect(slack.received).toHaveLength(0);
  });

  it('does nothing for successful, canceled or unfinished runs', async () => {
    const { slack, notifier } = await setup();
    for (const status of ['success', 'canceled', 'started', 'queued']) {
      expect(await notifier.runEnded(failedRun({ status, id: `run-${status}` }))).toEqual({ status: 'none' });
    }
    expect(slack.received).toHaveLength(0);
  });

  it("sends run_recovered when a schedule's run succeeds after a failed one", async () => {
    const onlyFailures: NotificationDef = { ...failureSlack, name: 'failures_only', on: ['run_failure'] };
    const { slack, notifier } = await setup({ notifications: [failureSlack, onlyFailures] });
    const ok = failedRun({ status: 'success', steps: [{ key: 'openmetadata/trino/metadata', status: 'success' }] });
    expect(await notifier.runEnded(ok, { previous: { id: '11111111-2222', status: 'success' } })).toEqual({ status: 'none' });
    expect(await notifier.runEnded({ ...ok, trigger: { type: 'manual' } }, { previous: { id: '11111111-2222', status: 'failure' } })).toEqual({ status: 'none' });
    const o = await notifier.runEnded(ok, { previous: { id: '11111111-2222', status: 'failure' } });
    expect(o.status).toBe('sent');
    expect(slack.received).toHaveLength(1); // only the notification that listens for run_recovered
    expect(JSON.stringify(slack.received[0]!.payload)).toContain('Production Run Recovered');
  });

  it('prints the alert when no webhook is configured (dev), masked', async () => {
    const { slack, notifier, out } = await setup({ webhookEnv: false });
    const o = await notifier.runEnded(failedRun());
    expect(o.status).toBe('printed');
    expect(o.detail).toContain('run_failure_slack: printed to the terminal (webhook secret `slack_webhook`: environment variable SLACK_WEBHOOK_URL is not set');
    expect(slack.received).toHaveLength(0);
    expect(out.text).toContain('┌─ Slack alert, not sent: run_failure_slack: webhook secret `slack_webhook`');
    expect(out.text).toContain('PRODUCTION RUN FAILURE');
    expect(out.text).toContain('Job: `critical_metadata_ingestion`   Run: `abcdef12`');
    expect(out.text).toContain('✗ `openmetadata/trino/metadata` failed after 2 attempts');
    expect(out.text).toContain('    401 Unauthorized for token *** (b64 ***)');
    expect(out.text).toContain('View run: https://pipelines.example.org/runs/abcdef12-3456-7890-abcd-ef1234567890');
    expect(out.text).not.toContain(SECRET);
  });

  it('prints the alert when no notification is defined at all', async () => {
    const { notifier, out } = await setup({ notifications: [] });
    expect(await notifier.runEnded(failedRun())).toMatchObject({ status: 'printed', detail: 'printed to the terminal: no notification is configured for run failures (add one under `notifications:` to send it to Slack)' });
    expect(out.text).toContain('PRODUCTION RUN FAILURE');
  });

  it('records a failure (and still prints) when the webhook secret cannot be read from Vault', async () => {
    const v = await FakeVault.start({ sealed: true });
    open.push(v);
    const { notifier, out } = await setup({ webhookEnv: false, vault: v.url });
    const o = await notifier.runEnded(failedRun());
    expect(o.status).toBe('failed');
    expect(o.detail).toContain('Vault is sealed (503)');
    expect(out.text).toContain('PRODUCTION RUN FAILURE');
  });

  it('records a delivery failure without throwing or changing the run', async () => {
    const { slack, notifier } = await setup();
    slack.script.push({ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
    const run = failedRun();
    const o = await notifier.runEnded(run);
    expect(o).toMatchObject({ status: 'failed', detail: 'run_failure_slack: Slack answered 500 rollup_error; gave up after 4 attempts' });
    expect(run.status).toBe('failure');
  });

  it("masks a Slack (or proxy) error answer that echoes the webhook, before it is recorded", async () => {
    const { slack, notifier } = await setup();
    const path = new URL(slack.url).pathname;
    slack.script.push({ status: 404, body: `no_service: ${path} (token s3cr3tW3bh00kT0k3n, url ${slack.url}, ${encodeURIComponent(slack.url).replace(/%[0-9A-F]{2}/g, (x) => x.toLowerCase())})` });
    const o = await notifier.runEnded(failedRun());
    expect(o.status).toBe('failed');
    expect(o.detail).toBe('run_failure_slack: Slack answered 404 no_service: *** (token ***, url ***, ***)');
  });

  it('one notification sent and one without webhook: sent, with both in the detail', async () => {
    const other: NotificationDef = { name: 'team_b', on: ['run_failure'], slack: { webhook: '${env:TEAM_B_WEBHOOK}' }, pos };
    const { slack, notifier, out } = await setup({ notifications: [failureSlack, other] });
    const o = await notifier.runEnded(failedRun());
    expect(o.status).toBe('sent');
    expect(o.detail).toBe('run_failure_slack: sent to Slack; team_b: printed to the terminal (webhook: environment variable TEAM_B_WEBHOOK is not set (write ${env:TEAM_B_WEBHOOK:-default} for a default))');
    expect(slack.received).toHaveLength(1);
    expect(out.text).toContain('team_b');
  });
});

describe('notifierSink', () => {
  it('alerts once after run_finished and records the outcome on the run', async () => {
    const { slack, notifier } = await setup();
    const run = failedRun();
    const recorded: Array<[string, AlertOutcome]> = [];
    const store = { getRun: (id: string) => (id === run.id ? run : undefined), setAlert: (id: string, a: AlertOutcome) => void recorded.push([id, a]) };
    const s = notifierSink({ notifier, store });
    const ev = (type: RunEvent['type'], extra: Partial<RunEvent> = {}): RunEvent => ({ ts: new Date().toISOString(), type, run_id: run.id, ...extra });
    s.emit(ev('run_started'));
    s.emit(ev('step_failed', { key: 'openmetadata/trino/metadata', attempt: 1 }));
    s.emit(ev('retry_scheduled', { key: 'openmetadata/trino/metadata' }));
    expect(slack.received).toHaveLength(0); // nothing while a step may still be retried
    s.emit(ev('step_failed', { key: 'openmetadata/trino/metadata', attempt: 2 }));
    s.emit(ev('run_finished', { status: 'failure' }));
    await s.close!();
    expect((await s.outcome)?.status).toBe('sent');
    expect(recorded).toHaveLength(1);
    expect(recorded[0]![0]).toBe(run.id);
    expect(recorded[0]![1].status).toBe('sent');
    expect(slack.received).toHaveLength(1);
  });

  it('does nothing when the run never finished', async () => {
    const { slack, notifier } = await setup();
    const s = notifierSink({ notifier, store: { getRun: () => failedRun(), setAlert: () => undefined } });
    await s.close!();
    expect(await s.outcome).toBeUndefined();
    expect(slack.received).toHaveLength(0);
  });
});
