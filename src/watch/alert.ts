/**
 * From a failed Dagster run to the runner's failure alert: the same Slack layout as a
 * runner run's (message.ts: header `<Env> Run Failure`, the job and the short run id, a
 * section per failed step, the run's own failure message when no step failed, a button
 * to the run), plus the run's code location, with the button pointing at
 * `<dagster_url>/runs/<run-id>`. dbt errors are cut down to what follows "Errors parsed
 * from dbt logs", as the original sensor did. Whether Dagster will retry a run (then no
 * alert) is retry.ts.
 */
import { type AlertRun, type AlertStep, type SlackMessage, SLACK_LIMITS, buildFailureMessage, capitalise, escapeMrkdwn, shortRunId, truncate } from '../notify/message.js';
import type { DagsterPythonError, DagsterRunDetail, DagsterRunSummary } from './dagster-client.js';
import { DAGSTER_TAGS, attemptText, tagValue } from './retry.js';

/** The marker dagster-dbt puts before the errors it parsed from dbt's log. */
export const DBT_MARKER = 'Errors parsed from dbt logs';

/**
 * The part of a dagster-dbt error after "Errors parsed from dbt logs" (dbt's own error
 * lines), without a trailing stack trace; undefined when `text` is not such an error.
 */
export function dbtErrors(text: string): string | undefined {
  const at = text.indexOf(DBT_MARKER);
  if (at < 0) return undefined;
  let rest = text.slice(at + DBT_MARKER.length).replace(/^\s*:/, '');
  const stack = rest.indexOf('\n\nStack Trace:');
  if (stack >= 0) rest = rest.slice(0, stack);
  rest = rest.replace(/^\s*\n/, '').replace(/\s+$/, '');
  return rest.trim() ? rest : undefined;
}

/** The text shown for a step's error: dbt's errors when it is a dbt failure, else the message and its causes. */
export function errorText(error: DagsterPythonError | null, fallback: string): string {
  if (!error) return fallback;
  const messages = [error.message, ...(error.errorChain ?? []).map((l) => l.error.message)];
  for (const m of messages) {
    const dbt = dbtErrors(m);
    if (dbt !== undefined) return dbt;
  }
  const chain = (error.errorChain ?? []).map((l) => `${l.isExplicitLink ? 'Caused by' : 'While handling'}: ${l.error.message.trim()}`);
  const text = [error.message.trim(), ...chain].filter(Boolean).join('\n\n');
  return text || fallback;
}

const STEP_STATUS: Record<string, string> = { SUCCESS: 'success', FAILURE: 'failure', SKIPPED: 'skipped', IN_PROGRESS: 'running' };

/** The code location of a run (its repository origin's location), or `unknown`. */
export function codeLocation(run: DagsterRunSummary): string {
  return run.repositoryOrigin?.repositoryLocationName || 'unknown';
}

/** A failed Dagster run in the shape the runner's alert builder takes. */
export function toAlertRun(run: DagsterRunSummary, detail: DagsterRunDetail, envName: string): AlertRun {
  const errors = new Map<string, string>();
  for (const f of detail.stepFailures) {
    if (f.stepKey === null) continue;
    // A step that failed twice (dynamic outputs, re-tries inside one run) shows its last failure.
    errors.set(f.stepKey, errorText(f.error, f.message || `step ${f.stepKey} failed`));
  }
  const steps: AlertStep[] = detail.steps.map((s) => ({ key: s.stepKey, status: errors.has(s.stepKey) ? 'failure' : (STEP_STATUS[s.status ?? ''] ?? 'pending'), error: errors.get(s.stepKey) ?? null }));
  for (const [key, error] of errors) if (!detail.steps.some((s) => s.stepKey === key)) steps.push({ key, status: 'failure', error });
  let error: string | null = null;
  if (detail.runFailure) {
    const e = errorText(detail.runFailure.error, '');
    error = [detail.runFailure.message.trim(), e && e !== detail.runFailure.message.trim() ? e : ''].filter(Boolean).join('\n\n') || null;
  }
  // No step failed and the failure says nothing of why (the run worker was killed): what Dagster logged last.
  const engine = detail.lastEngineEvent;
  if (engine && errors.size === 0 && !detail.runFailure?.error) {
    const e = errorText(engine.error, '');
    error = [error, engine.message.trim(), e && e !== engine.message.trim() ? e : ''].filter(Boolean).join('\n\n') || null;
  }
  if (!detail.found) error = `${error ? error + '\n\n' : ''}Dagster no longer has this run's event log (the run was deleted after it failed).`;
  else if (!error && !steps.some((s) => s.status === 'failure')) error = 'Dagster recorded no step failure and no failure message for this run.';
  const schedule = tagValue(run.tags, DAGSTER_TAGS.schedule);
  return {
    id: run.runId,
    status: 'failure',
    env: envName,
    job: run.jobName || '(unknown job)',
    error,
    trigger: schedule ? { type: 'schedule', schedule } : 'dagster',
    steps,
  };
}

/** Where the alert points and how it is headed. */
export interface DagsterAlertContext {
  /** The environment's name (the header says `<Env> Run Failure`). */
  env: string;
  /** The Dagster webserver; the button links to `<dagsterUrl>/runs/<run-id>`. */
  dagsterUrl: string;
  /** Why this alert comes late (Dagster took a retry back, the retry never started). */
  note?: string;
}

/** The Slack message for a failed Dagster run. */
export function buildDagsterAlert(run: DagsterRunSummary, detail: DagsterRunDetail, ctx: DagsterAlertContext): SlackMessage {
  const alertRun = toAlertRun(run, detail, ctx.env);
  const message = buildFailureMessage(alertRun, { uiUrl: ctx.dagsterUrl });
  const location = codeLocation(run);
  const summary = message.blocks[1];
  if (summary && summary.type === 'section' && summary.fields) {
    // After the job: the code location, as the instance-wide sensor's readers need to know whose run it was.
    const field = { type: 'mrkdwn' as const, text: `*Code location:* \`${truncate(escapeMrkdwn(location).replace(/`/g, "'"), 1000)}\`` };
    summary.fields.splice(1, 0, field);
    const attempt = attemptText(run.tags);
    if (attempt) summary.fields.splice(3, 0, { type: 'mrkdwn' as const, text: `*Attempt:* ${escapeMrkdwn(attempt)}, the last: Dagster will not retry it again` });
    summary.fields.splice(SLACK_LIMITS.fields);
  }
  if (ctx.note) {
    const button = message.blocks.findIndex((b) => b.type === 'actions');
    const note = { type: 'context' as const, elements: [{ type: 'mrkdwn' as const, text: truncate(escapeMrkdwn(ctx.note), SLACK_LIMITS.sectionText) }] };
    message.blocks.splice(button < 0 ? message.blocks.length : button, 0, note);
  }
  if (detail.truncated) {
    const button = message.blocks.findIndex((b) => b.type === 'actions');
    const note = { type: 'context' as const, elements: [{ type: 'mrkdwn' as const, text: "The run's event log is longer than the watcher reads: later step failures may be missing." }] };
    message.blocks.splice(button < 0 ? message.blocks.length : button, 0, note);
  }
  const failed = alertRun.steps.filter((s) => s.status === 'failure').map((s) => s.key);
  const why = failed.length > 0 ? `: ${failed.length} failed step${failed.length === 1 ? '' : 's'} (${failed.join(', ')})` : alertRun.error ? `: ${alertRun.error.split('\n')[0]}` : '';
  message.text = truncate(escapeMrkdwn(`${capitalise(ctx.env || 'default')} Run Failure: job ${alertRun.job} in ${location}, run ${shortRunId(run.runId)}${why}`), SLACK_LIMITS.text);
  return message;
}
