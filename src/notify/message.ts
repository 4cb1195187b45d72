/**
 * The Slack messages the runner sends, as Block Kit payloads built from a finished run:
 * a failure alert (header `<Env> Run Failure`, the job or selection and the short run id,
 * one section per failed step with its error excerpt (steps that failed with the same
 * error share one, which names and counts them), the run's own error when no step
 * failed, a button to the run page) and a recovery notice. Everything stays within Slack's
 * limits: 150 characters for a header, 3,000 for a section's text, 50 blocks a message.
 * Inputs are expected masked already; the Notifier masks again before anything leaves.
 */

/** Slack's Block Kit limits the builders respect. */
export const SLACK_LIMITS = {
  headerText: 150,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  blocks: 50,
  buttonText: 75,
  url: 3000,
  /** Top-level `text` of a message (Slack truncates beyond 40,000; we keep it short). */
  text: 3000,
} as const;

/** At most this many failed steps get their own section; the rest are counted and named. */
export const MAX_STEP_SECTIONS = 20;
/** All step excerpts of one message together stay under this many characters. */
export const STEP_TEXT_BUDGET = 24_000;

/** One step of a finished run, as storage records it (DESIGN.md's run JSON). */
export interface AlertStep {
  key: string;
  status: string;
  attempts?: number | null;
  error?: string | null;
}

/** A finished run, as storage records it (DESIGN.md's run JSON; extra fields are ignored). */
export interface AlertRun {
  id: string;
  status: string;
  /** The environment's name. */
  env: string;
  job?: string | null;
  selection?: string | null;
  /** The run's own failure message (the runner died, the run failed before any step). */
  error?: string | null;
  /** `manual`, or the schedule that started it (a string or an object naming it). */
  trigger?: unknown;
  steps: AlertStep[];
  /** The alert already recorded for this run, if any. */
  alert?: { status: string; detail?: string | null; at?: string | null } | null;
}

/** A Block Kit block (only the shapes the runner sends). */
export type Block =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji?: boolean } }
  | { type: 'section'; text?: { type: 'mrkdwn'; text: string }; fields?: Array<{ type: 'mrkdwn'; text: string }> }
  | { type: 'context'; elements: Array<{ type: 'mrkdwn'; text: string }> }
  | { type: 'divider' }
  | { type: 'actions'; elements: Array<{ type: 'button'; text: { type: 'plain_text'; text: string }; url: string; action_id?: string }> };

/** A message: blocks plus the plain `text` Slack shows in notifications and old clients. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** Where the run page is and how the environment is called. */
export interface MessageContext {
  /** The environment's `ui_url` variable; the button links to `<ui_url>/runs/<id>`. */
  uiUrl?: string;
}

/** `production` → `Production`. */
export function capitalise(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** The first segment of a UUID, as the original's alerts show it. */
export function shortRunId(id: string): string {
  return id.split('-')[0] || id;
}

/** The schedule a trigger names, if it is a schedule's. */
export function scheduleOf(trigger: unknown): string | undefined {
  if (typeof trigger === 'string') {
    const m = /^schedule[:/ ](.+)$/.exec(trigger);
    return m ? m[1]!.trim() : undefined;
  }
  if (trigger && typeof trigger === 'object') {
    const t = trigger as Record<string, unknown>;
    const kind = t.kind ?? t.type;
    if (typeof t.schedule === 'string' && t.schedule) return t.schedule;
    if (kind === 'schedule' && typeof t.name === 'string') return t.name;
  }
  return undefined;
}

/** The run a `runner retry` trigger re-executes, if the trigger is one. */
export function retryOfTrigger(trigger: unknown): string | undefined {
  if (!trigger || typeof trigger !== 'object') return undefined;
  const t = trigger as Record<string, unknown>;
  return t.type === 'retry' && typeof t.retry_of === 'string' && t.retry_of ? t.retry_of : undefined;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts `s` to at most `max` characters, saying so. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const suffix = '…';
  return cutEntity(s.slice(0, Math.max(0, max - suffix.length))) + suffix;
}

/**
 * An error excerpt of at most `max` characters (already mrkdwn-escaped, safe inside a
 * code block): its head and its tail, since a failure says what failed first and why last.
 */
export function excerpt(error: string, max: number): string {
  const s = escapeMrkdwn(error.replace(/\r\n?/g, '\n').trim()).replace(/```/g, '`\u200b`\u200b`');
  if (s.length <= max) return s;
  // The note's length depends on the number in it; 12 digits of room is plenty.
  const room = Math.max(0, max - 40);
  const headEnd = cutEntity(s.slice(0, Math.floor(room / 3))).length;
  const tailStart = entityEnd(s, s.length - (room - Math.floor(room / 3)));
  const note = `\n… (${tailStart - headEnd} characters cut) …\n`;
  const out = s.slice(0, headEnd) + note + s.slice(tailStart);
  return out.length <= max ? out : out.slice(0, max);
}

function cutEntity(s: string): string {
  // Do not leave half an `&amp;` at a cut.
  return s.replace(/&[a-z]{0,3}$/, '');
}

/** `i`, or the index after the entity `i` falls inside. */
function entityEnd(s: string, i: number): number {
  for (let k = i - 1; k >= Math.max(0, i - 4); k--) {
    if (s[k] === ';') return i;
    if (s[k] === '&') {
      const semi = s.indexOf(';', k);
      return semi >= i ? semi + 1 : i;
    }
  }
  return i;
}

function inlineCode(s: string, max: number): string {
  return '`' + truncate(escapeMrkdwn(s).replace(/`/g, "'"), max - 2) + '`';
}

function runLink(ctx: MessageContext, runId: string): Block[] {
  if (!ctx.uiUrl) return [];
  const url = `${ctx.uiUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(runId)}`;
  if (url.length > SLACK_LIMITS.url || !/^https?:\/\//.test(url)) return [];
  return [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'View run' }, url, action_id: 'view_run' }] }];
}

function summaryFields(run: AlertRun): Array<{ type: 'mrkdwn'; text: string }> {
  const fields: Array<{ type: 'mrkdwn'; text: string }> = [];
  const what = run.job ? `*Job:* ${inlineCode(run.job, 1500)}` : `*Selection:* ${inlineCode(run.selection || '(none)', 1900)}`;
  fields.push({ type: 'mrkdwn', text: what });
  fields.push({ type: 'mrkdwn', text: `*Run:* \`${escapeMrkdwn(shortRunId(run.id))}\`` });
  const schedule = scheduleOf(run.trigger);
  if (schedule) fields.push({ type: 'mrkdwn', text: `*Schedule:* ${inlineCode(schedule, 1500)}` });
  const retryOf = retryOfTrigger(run.trigger);
  if (retryOf) fields.push({ type: 'mrkdwn', text: `*Retry of:* \`${escapeMrkdwn(shortRunId(retryOf))}\`` });
  return fields;
}

/** The failure alert of a failed run. */
export function buildFailureMessage(run: AlertRun, ctx: MessageContext = {}): SlackMessage {
  const env = capitalise(run.env || 'default');
  const header = truncate(`${env} Run Failure`, SLACK_LIMITS.headerText);
  const failed = run.steps.filter((s) => s.status === 'failure');
  const skipped = run.steps.filter((s) => s.status === 'skipped').length;
  const fields = summaryFields(run);
  if (run.steps.length > 0) {
    const counts = `${failed.length} of ${run.steps.length} failed${skipped ? `, ${skipped} skipped` : ''}`;
    fields.push({ type: 'mrkdwn', text: `*Steps:* ${counts}` });
  }
  const link = runLink(ctx, run.id);
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: header, emoji: true } }, { type: 'section', fields }];

  // Blocks left for steps: header, summary, an overflow note and the button are fixed.
  // Steps that failed with the same error share one section (a missing CLI fails them all alike).
  const groups = groupByError(failed);
  const room = Math.min(MAX_STEP_SECTIONS, SLACK_LIMITS.blocks - blocks.length - 1 - link.length);
  const shown = groups.slice(0, room);
  const perStep = Math.max(400, Math.min(SLACK_LIMITS.sectionText, Math.floor(STEP_TEXT_BUDGET / Math.max(1, shown.length))));
  for (const g of shown) {
    const s = g[0]!;
    const attempts = s.attempts && s.attempts > 1 && g.length === 1 ? ` after ${s.attempts} attempts` : '';
    const names = g.map((x) => inlineCode(x.key, 500)).join(', ');
    const head = g.length === 1 ? `:x: *${inlineCode(s.key, 500)}* failed${attempts}` : truncate(`:x: *${g.length} steps* failed with the same error: ${names}`, Math.floor(perStep / 2));
    const body = s.error && s.error.trim() ? s.error : '(no error message recorded)';
    const text = `${head}\n\`\`\`${excerpt(body, Math.max(100, perStep - head.length - 8))}\`\`\``;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  }
  const hidden = groups.slice(shown.length).flat();
  const left = hidden.length;
  if (left > 0) {
    const names = hidden.map((s) => s.key);
    const intro = `…and ${left} more failed step${left === 1 ? '' : 's'} not shown: `;
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(intro + names.map((n) => escapeMrkdwn(n)).join(', '), SLACK_LIMITS.sectionText) }] });
  }
  if (failed.length === 0) {
    const why = run.error && run.error.trim() ? run.error : 'The run failed without an error message (the runner may have died).';
    const head = run.steps.some((s) => s.status !== 'pending') ? '*The run failed:*' : '*The run failed before any step started:*';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `${head}\n\`\`\`${excerpt(why, SLACK_LIMITS.sectionText - head.length - 8)}\`\`\`` } });
  }
  blocks.push(...link);

  const target = run.job ? `job ${run.job}` : `selection ${run.selection || '(none)'}`;
  const stepsText = failed.length > 0 ? `: ${failed.length} failed step${failed.length === 1 ? '' : 's'} (${failed.map((s) => s.key).join(', ')})` : run.error ? `: ${run.error.split('\n')[0]}` : '';
  const text = truncate(escapeMrkdwn(`${env} Run Failure: ${target}, run ${shortRunId(run.id)}${stepsText}`), SLACK_LIMITS.text);
  return { text, blocks };
}

/** Failed steps grouped by their error text, in the order of each error's first step. */
function groupByError(failed: AlertStep[]): AlertStep[][] {
  const groups = new Map<string, AlertStep[]>();
  for (const s of failed) {
    const key = s.error?.trim() ?? '';
    const g = groups.get(key);
    if (g) g.push(s);
    else groups.set(key, [s]);
  }
  return [...groups.values()];
}

/** The notice that a schedule's run succeeded after its previous run failed. */
export function buildRecoveredMessage(run: AlertRun, previous: { id: string }, ctx: MessageContext = {}): SlackMessage {
  const env = capitalise(run.env || 'default');
  const header = truncate(`${env} Run Recovered`, SLACK_LIMITS.headerText);
  const fields = summaryFields(run);
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    { type: 'section', fields },
    { type: 'section', text: { type: 'mrkdwn', text: `:white_check_mark: Succeeded after the previous run \`${escapeMrkdwn(shortRunId(previous.id))}\` failed.` } },
    ...runLink(ctx, run.id),
  ];
  const schedule = scheduleOf(run.trigger);
  const what = schedule ? `schedule ${schedule}` : run.job ? `job ${run.job}` : `selection ${run.selection ?? ''}`;
  const text = truncate(escapeMrkdwn(`${env} Run Recovered: ${what}, run ${shortRunId(run.id)} succeeded after run ${shortRunId(previous.id)} failed`), SLACK_LIMITS.text);
  return { text, blocks };
}
