/** Checks of jobs and schedules: selections that parse and select something, cron, time zones. */
import { Cron } from 'croner';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { checkSelection } from '../selection/index.js';
import { didYouMean } from '../util/suggest.js';
import type { Definitions } from './model.js';
import type { Origins } from './build.js';

/** Each job's selection parses and selects at least one asset. */
export function checkJobs(defs: Definitions, origins: Origins): Diagnostic[] {
  const ds: Diagnostic[] = [];
  for (const job of defs.jobs.values()) {
    const { file, index } = origins.jobs.get(job.name)!;
    const problem = selectionProblem(job.select, defs);
    if (problem) ds.push({ ...problem, pos: file.pos(['jobs', index, 'select']), message: `job \`${job.name}\`: ${problem.message}` });
  }
  return ds;
}

/** Each schedule has a valid cron, a known time zone, and a known job or a valid selection. */
export function checkSchedules(defs: Definitions, origins: Origins): Diagnostic[] {
  const ds: Diagnostic[] = [];
  for (const s of defs.schedules.values()) {
    const { file, index } = origins.schedules.get(s.name)!;
    const at = (prop: string) => file.pos(['schedules', index, prop]);
    const tzOk = isTimeZone(s.timezone);
    if (!tzOk) ds.push({ pos: at('timezone'), message: `schedule \`${s.name}\`: unknown time zone \`${s.timezone}\`${didYouMean(s.timezone, timeZones())}` });
    const cronError = cronProblem(s.cron, tzOk ? s.timezone : 'UTC');
    if (cronError) ds.push({ pos: at('cron'), message: `schedule \`${s.name}\`: invalid cron \`${s.cron}\`: ${cronError}` });
    if (s.job !== undefined && !defs.jobs.has(s.job)) {
      ds.push({ pos: at('job'), message: `schedule \`${s.name}\` names unknown job \`${s.job}\`${didYouMean(s.job, defs.jobs.keys())}` });
    }
    if (s.select !== undefined) {
      const problem = selectionProblem(s.select, defs);
      if (problem) ds.push({ ...problem, pos: at('select'), message: `schedule \`${s.name}\`: ${problem.message}` });
    }
    if (s.env !== undefined && !defs.environments.has(s.env)) {
      ds.push({ pos: at('env'), message: `schedule \`${s.name}\` names unknown environment \`${s.env}\`${didYouMean(s.env, defs.environments.keys())}` });
    }
  }
  return ds;
}

/** Syntax, unknown names and job cycles; `status:` and a selection that is empty today are fine. */
function selectionProblem(text: string, defs: Definitions): Diagnostic | undefined {
  const [first] = checkSelection(text, { graph: defs.graph, assets: defs.assets, jobs: defs.jobs });
  return first ? { message: first.message, detail: first.detail } : undefined;
}

/** Why croner rejects a cron expression, or undefined when it is valid. */
export function cronProblem(expr: string, timezone: string): string | undefined {
  // Croner also takes a seventh (year) field; the format promises five or six.
  if (expr.trim().split(/\s+/).length > 6) return 'expected five fields (minute hour day-of-month month day-of-week), or six with a leading seconds field';
  try {
    const c = new Cron(expr, { timezone, paused: true });
    const next = c.nextRun();
    c.stop();
    // Croner accepts patterns no date matches (`0 0 31 2 *`): such a schedule would never tick.
    return next ? undefined : 'no date matches it, so it never fires';
  } catch (err) {
    const message = String((err as Error).message).replace(/^CronPattern: /, '');
    if (/space separated parts are required/.test(message)) {
      return 'expected five fields (minute hour day-of-month month day-of-week), or six with a leading seconds field';
    }
    return lowerFirst(message);
  }
}

/** Whether the IANA time zone exists in this Node's ICU data. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

let zones: string[] | undefined;
function timeZones(): string[] {
  zones ??= (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone').concat('UTC');
  return zones;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
