/** `materialize --dry-run`: the plan in order with what each step would run, secrets as `***`. */
import type { Plan } from '../execution/plan.js';
import type { Rendered } from '../handlers/handler.js';
import { formatDuration } from '../util/duration.js';
import type { Style } from './style.js';

/** Shell-like quoting of one argument, for display only (nothing runs through a shell). */
export function quoteArg(a: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}

/** The dry-run listing (ends with a newline). */
export function formatPlan(plan: Plan, rendered: Rendered[], s: Style, header: string): string {
  const out: string[] = [header, ''];
  const width = String(plan.steps.length).length;
  plan.steps.forEach((step, i) => {
    const a = step.asset;
    const r = rendered[i]!;
    const policy: string[] = [`handler ${a.handler}`];
    if (a.pool) policy.push(`pool ${a.pool}`);
    if (a.timeoutMs !== undefined) policy.push(`timeout ${formatDuration(a.timeoutMs)}`);
    if (a.retry && a.retry.attempts > 1) policy.push(`${a.retry.attempts} attempts, ${a.retry.backoff} backoff from ${formatDuration(a.retry.delayMs)}`);
    out.push(`${String(i + 1).padStart(width)}. ${s.bold(step.key)}  ${s.dim(`(${policy.join(', ')})`)}`);
    const pad = ' '.repeat(width + 2);
    if (step.upstream.length > 0) out.push(`${pad}${s.dim('after:')} ${step.upstream.join(', ')}`);
    // A multi-line argument (an inline script) continues under the command, indented.
    out.push(`${pad}${s.dim('run:')}   ${r.command.map(quoteArg).join(' ').replaceAll('\n', `\n${pad}       `)}`);
    for (const [k, v] of Object.entries(r.env ?? {})) out.push(`${pad}${s.dim('env:')}   ${k}=${v}`);
    for (const f of r.files ?? []) {
      out.push(`${pad}${s.dim('file:')}  ${f.name}`);
      for (const l of f.content.split('\n')) out.push(`${pad}       ${l}`);
    }
  });
  out.push('', s.dim('Dry run: nothing was run or recorded.'));
  return out.join('\n') + '\n';
}
