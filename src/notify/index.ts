/**
 * Run alerts: Slack messages built from a finished run (message.ts), delivered with
 * retries (slack.ts) or printed when no webhook is configured (print.ts), decided and sent
 * once per run by the Notifier (notifier.ts). `runner notify test` uses {@link sendTestAlert}.
 */
import { randomUUID } from 'node:crypto';
import type { Definitions } from '../definitions/model.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import { SecretResolver } from '../secrets/resolver.js';
import { Masker } from '../secrets/masker.js';
import { knownSecretValues } from '../secrets/known.js';
import { type AlertRun, buildFailureMessage } from './message.js';
import { type AlertOutcome, Notifier } from './notifier.js';
import type { DeliveryOptions } from './slack.js';

export * from './message.js';
export { Notifier, notifierSink, type AlertOutcome, type AlertStore, type NotifierOptions } from './notifier.js';
export { sendToSlack, parseRetryAfter, type DeliveryOptions, type DeliveryResult } from './slack.js';
export { formatForTerminal, plainText } from './print.js';
export { runHooks, previousOfSchedule, type RunHooks, type RunHooksOptions, type HookStore } from './hooks.js';

/** A made-up failed run for `runner notify test`: one failed step, one skipped. */
export function sampleFailedRun(envName: string): AlertRun {
  return {
    id: randomUUID(),
    status: 'failure',
    env: envName,
    job: 'notify_test',
    trigger: 'manual',
    steps: [
      { key: 'example/notify/test', status: 'failure', attempts: 1, error: 'This is a test alert sent by `runner notify test`.\nNo run failed; if you can read this in Slack, alerts work.' },
      { key: 'example/notify/downstream', status: 'skipped' },
    ],
  };
}

/**
 * Sends a sample failure alert through every notification of `defs` (or those named in
 * `only`), or prints it when none is configured. Secrets (the webhook) are resolved with
 * the environment's sources, exactly as a run would.
 */
export async function sendTestAlert(
  defs: Pick<Definitions, 'notifications' | 'secrets'>,
  env: Pick<ResolvedEnvironment, 'name' | 'vars' | 'vault'>,
  opts: { only?: string[]; processEnv?: Record<string, string | undefined>; out?: { write(text: string): unknown }; delivery?: DeliveryOptions } = {},
): Promise<AlertOutcome> {
  const masker = new Masker(knownSecretValues({ defs, env, processEnv: opts.processEnv ?? process.env }));
  const resolver = new SecretResolver({ secrets: defs.secrets, env, processEnv: opts.processEnv, masker });
  const notifier = new Notifier({ notifications: defs.notifications, env, resolver, masker, processEnv: opts.processEnv, out: opts.out, delivery: opts.delivery });
  const run = sampleFailedRun(env.name);
  const message = buildFailureMessage(run, { uiUrl: env.vars.ui_url });
  const only = opts.only ?? [...defs.notifications.values()].map((n) => n.name);
  return notifier.notify('run_failure', message, only.length > 0 ? only : undefined);
}
