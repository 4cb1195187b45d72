/**
 * The Notifier: told once that a run ended, with the run's final record, it decides whether
 * an alert is due (the run failed; or a schedule's run succeeded after its previous run
 * failed), builds the message, masks it, and delivers it to every notification listening
 * for that event, or prints it to the terminal when no webhook is configured. It returns the
 * outcome for the caller to record on the run (`store.setAlert`); it never changes a run's
 * status or exit code, and never throws.
 *
 * Why the final record and not the event stream: only the finished run knows that it
 * failed for good (no retry of a step is pending), and the same record exists for runs that
 * died without a `run_finished` event (serve marks them failed when it finds them) and for
 * runs that failed before any step started. {@link notifierSink} adapts it to the stream.
 */
import type { NotificationDef, NotificationEvent } from '../definitions/model.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import type { EventSink, RunEvent } from '../execution/events.js';
import { secretsIn, substitute } from '../definitions/interpolate.js';
import { Masker } from '../secrets/masker.js';
import { webhookForms } from '../secrets/known.js';
import type { SecretResolver } from '../secrets/resolver.js';
import { type AlertRun, type SlackMessage, buildFailureMessage, buildRecoveredMessage, scheduleOf } from './message.js';
import { type DeliveryOptions, sendToSlack } from './slack.js';
import { formatForTerminal } from './print.js';

/** What happened to a run's alert, as recorded on the run (`alert` in DESIGN.md's run JSON). */
export interface AlertOutcome {
  status: 'sent' | 'failed' | 'printed' | 'none';
  detail?: string;
  /** ISO 8601 time of the outcome. */
  at?: string;
}

export interface NotifierOptions {
  /** The definitions' notifications. */
  notifications: Map<string, NotificationDef> | Iterable<NotificationDef>;
  /** The run's environment: its name and variables (`ui_url` for the button). */
  env: Pick<ResolvedEnvironment, 'name' | 'vars'>;
  /** Resolves `${secret:..}` in webhook URLs (the run's resolver, so its masker knows every value). */
  resolver?: SecretResolver;
  /** Masks messages and details (default: the resolver's, else an empty one). */
  masker?: Masker;
  /** Process environment for `${env:..}` in webhook URLs (default `process.env`). */
  processEnv?: Record<string, string | undefined>;
  /** Where printed alerts go (default `process.stderr`). */
  out?: { write(text: string): unknown };
  /** Timeout and retry policy of each delivery. */
  delivery?: DeliveryOptions;
}

type Webhook = { kind: 'url'; url: string } | { kind: 'unconfigured' | 'error'; message: string };

/** Sends run alerts; one Notifier may serve many runs (serve) or one (materialize). */
export class Notifier {
  private readonly notifications: NotificationDef[];
  private readonly masker: Masker;
  private readonly done = new Map<string, Promise<AlertOutcome>>();

  constructor(private readonly opts: NotifierOptions) {
    const n = opts.notifications;
    this.notifications = n instanceof Map ? [...n.values()] : [...n];
    this.masker = opts.masker ?? opts.resolver?.masker ?? new Masker();
  }

  /**
   * Called once when a run has ended, with its final record. Sends the failure alert (or the
   * recovery notice; `previous` is the schedule's run before this one) at most once per run
   * and event, also across processes: a run whose record already says `sent` or `printed`
   * is not alerted again.
   */
  runEnded(run: AlertRun, ctx: { previous?: { id: string; status: string } | null } = {}): Promise<AlertOutcome> {
    const recorded = run.alert;
    if (recorded && (recorded.status === 'sent' || recorded.status === 'printed')) {
      return Promise.resolve({ status: recorded.status, detail: recorded.detail ?? undefined, at: recorded.at ?? undefined });
    }
    let event: NotificationEvent | undefined;
    if (run.status === 'failure') event = 'run_failure';
    else if (run.status === 'success' && scheduleOf(run.trigger) && ctx.previous?.status === 'failure') event = 'run_recovered';
    if (!event) return Promise.resolve({ status: 'none' });
    const key = `${run.id}\u0000${event}`;
    let p = this.done.get(key);
    if (!p) {
      const e = event;
      p = this.safely(async () => {
        const masked = this.masker.maskDeep(run);
        const ctxMsg = { uiUrl: this.opts.env.vars.ui_url };
        const message = e === 'run_failure' ? buildFailureMessage(masked, ctxMsg) : buildRecoveredMessage(masked, ctx.previous!, ctxMsg);
        return this.notify(e, message);
      });
      this.done.set(key, p);
    }
    return p;
  }

  /**
   * Delivers `message` to the notifications listening for `event` (or those named in
   * `only`). A failure alert nobody can receive is printed instead; a recovery notice with
   * no listener is dropped (`none`).
   */
  notify(event: NotificationEvent, message: SlackMessage, only?: string[]): Promise<AlertOutcome> {
    return this.safely(async () => {
      const targets = this.notifications.filter((n) => (only ? only.includes(n.name) : n.on.includes(event)));
      const safe = this.masker.maskDeep(message);
      if (targets.length === 0) {
        if (event !== 'run_failure' && !only) return { status: 'none' };
        const reason = only ? `no notification named ${only.join(', ')}` : 'no notification is configured for run failures (add one under `notifications:` to send it to Slack)';
        this.print(safe, reason);
        return { status: 'printed', detail: `printed to the terminal: ${reason}` };
      }
      const results: Array<{ name: string; status: 'sent' | 'failed' | 'printed'; detail: string }> = [];
      const printReasons: string[] = [];
      await Promise.all(
        targets.map(async (n) => {
          const hook = await this.webhook(n);
          if (hook.kind === 'url') {
            const r = await sendToSlack(hook.url, safe, { ...this.opts.delivery, mask: (t) => this.masker.mask(t) });
            results.push({ name: n.name, status: r.status, detail: r.detail });
          } else {
            // Unconfigured (dev): print. Broken (Vault down): record the failure, and still print so the alert is seen.
            printReasons.push(`${n.name}: ${hook.message}`);
            results.push({ name: n.name, status: hook.kind === 'unconfigured' ? 'printed' : 'failed', detail: hook.message });
          }
        }),
      );
      if (printReasons.length > 0) this.print(safe, printReasons.length === 1 ? printReasons[0]! : `\n│   ${printReasons.join('\n│   ')}`);
      results.sort((a, b) => (a.name < b.name ? -1 : 1));
      const status = results.some((r) => r.status === 'failed') ? 'failed' : results.some((r) => r.status === 'sent') ? 'sent' : 'printed';
      const detail = results.map((r) => `${r.name}: ${r.status === 'printed' ? `printed to the terminal (${r.detail})` : r.detail}`).join('; ');
      return { status, detail };
    });
  }

  /** Resolves a notification's webhook URL; the URL and its token part are added to the masker (it is a credential). */
  private async webhook(n: NotificationDef): Promise<Webhook> {
    const names = secretsIn(n.slack.webhook);
    const resolver = this.opts.resolver;
    if (names.size > 0) {
      if (!resolver) return { kind: 'unconfigured', message: `webhook needs secret ${[...names].join(', ')}, and no secrets are available here` };
      const outcomes = await resolver.resolve(names);
      for (const o of outcomes.values()) {
        if (!o.ok) return { kind: o.unconfigured ? 'unconfigured' : 'error', message: `webhook ${o.message}` };
      }
    }
    const r = substitute(n.slack.webhook, { env: this.opts.processEnv ?? process.env, vars: this.opts.env.vars, secrets: (s) => resolver?.value(s) });
    if (r.errors.length > 0) return { kind: 'unconfigured', message: `webhook: ${r.errors.join('; ')}` };
    const url = r.value.trim();
    if (!url) return { kind: 'unconfigured', message: 'webhook is empty' };
    this.masker.addAll(webhookForms(url));
    return { kind: 'url', url };
  }

  private print(message: SlackMessage, reason: string): void {
    const out = this.opts.out ?? process.stderr;
    out.write(this.masker.mask(formatForTerminal(message, reason)));
  }

  /** Runs `fn`, turning anything it throws into a `failed` outcome; masks the detail; stamps the time. */
  private async safely(fn: () => Promise<AlertOutcome>): Promise<AlertOutcome> {
    let o: AlertOutcome;
    try {
      o = await fn();
    } catch (err) {
      o = { status: 'failed', detail: `alert not sent: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (o.status === 'none') return o;
    return { ...o, detail: o.detail === undefined ? undefined : this.masker.mask(o.detail), at: new Date().toISOString() };
  }
}

/** What {@link notifierSink} needs from storage (the run store has these shapes). */
export interface AlertStore {
  /** The run's final record. */
  getRun(id: string): AlertRun | undefined | null | Promise<AlertRun | undefined | null>;
  /** Records the alert's outcome on the run. */
  setAlert(runId: string, alert: AlertOutcome): unknown;
}

/**
 * The Notifier as an EventSink: it notes `run_finished` and, in `close()` (after the store
 * has taken every event), reads the run's final record, alerts, and records the outcome.
 * Add it after the storage sink. `previous` finds a schedule's run before this one (for
 * `run_recovered`). `outcome` resolves once done (undefined when the run never finished).
 */
export function notifierSink(opts: {
  notifier: Notifier;
  store: AlertStore;
  previous?: (run: AlertRun) => { id: string; status: string } | undefined | null | Promise<{ id: string; status: string } | undefined | null>;
}): EventSink & { outcome: Promise<AlertOutcome | undefined> } {
  let runId: string | undefined;
  let settle!: (o: AlertOutcome | undefined) => void;
  const outcome = new Promise<AlertOutcome | undefined>((r) => (settle = r));
  return {
    outcome,
    emit(event: RunEvent) {
      if (event.type === 'run_finished') runId = event.run_id;
    },
    async close() {
      if (!runId) return settle(undefined);
      try {
        const run = await opts.store.getRun(runId);
        if (!run) return settle(undefined);
        const previous = opts.previous ? await opts.previous(run) : undefined;
        const o = await opts.notifier.runEnded(run, { previous });
        if (o.status !== 'none') await opts.store.setAlert(runId, o);
        settle(o);
      } catch (err) {
        settle({ status: 'failed', detail: `alert not sent: ${err instanceof Error ? err.message : String(err)}` });
      }
    },
  };
}
