/** The body of `runner check`: the offline summary, and the online checks when asked. */
import { InputError } from '../diagnostics/diagnostic.js';
import { resolveEnvironment } from '../definitions/environment.js';
import type { Definitions } from '../definitions/model.js';
import type { CheckResult } from '../handlers/handler.js';
import { table } from './list-view.js';

export interface CheckRunOptions {
  env?: string;
  online?: boolean;
  json?: boolean;
}

/** Prints the result and returns the exit code (0 ok, 1 an online check failed). */
export async function runCheck(defs: Definitions, opts: CheckRunOptions): Promise<number> {
  // The chosen environment must exist and resolve even offline: a typo in --env is bad input.
  const env = resolveEnvironment(defs, opts.env);
  if (!env.ok) throw new InputError(env.diagnostics);
  const summary = {
    assets: defs.assets.size,
    jobs: defs.jobs.size,
    schedules: defs.schedules.size,
    environments: defs.environments.size,
    secrets: defs.secrets.size,
    notifications: defs.notifications.size,
    watchers: defs.watchers.size,
  };
  let checks: CheckResult[] = [];
  if (opts.online) {
    const { onlineChecks } = await import('./online-checks.js');
    checks = await onlineChecks(defs, env.value);
  }
  const failed = checks.filter((c) => !c.ok);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ valid: true, env: env.value.name, summary, checks }, null, 2) + '\n');
  } else {
    const parts = Object.entries(summary).map(([k, n]) => `${n} ${n === 1 ? k.replace(/s$/, '') : k}`);
    process.stdout.write(`ok: ${parts.join(', ')} (${defs.dir})\n`);
    if (opts.online) {
      process.stdout.write(`\nOnline checks (environment ${env.value.name})\n`);
      process.stdout.write(table(['CHECK', 'RESULT', 'DETAIL'], checks.map((c) => [c.name, c.ok ? 'pass' : 'FAIL', c.detail ?? ''])).join('\n') + '\n');
      process.stdout.write(failed.length === 0 ? `\nall ${checks.length} checks passed\n` : `\n${failed.length} of ${checks.length} checks failed\n`);
    }
  }
  return failed.length > 0 ? 1 : 0;
}
