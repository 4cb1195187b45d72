/** The timeline's order and status filter of a run's steps (pure, so tests can check it). */
import type { StepRecord } from './types.js';

/** How the rows are ordered. */
export type StepOrder = 'plan' | 'start';

/** The steps to show: those of `status` (all when empty), in `order` (steps that never started last, in plan order). */
export function orderSteps(steps: readonly StepRecord[], order: StepOrder, status: string): StepRecord[] {
  const kept = steps.filter((s) => status === '' || s.status === status);
  if (order === 'plan') return kept;
  const at = (s: StepRecord) => (s.started_at ? Date.parse(s.started_at) : Infinity);
  return kept
    .map((s, i) => ({ s, i }))
    .sort((a, b) => at(a.s) - at(b.s) || a.i - b.i)
    .map((x) => x.s);
}
