/** Retry waits: fixed or exponential backoff, capped, with optional ±20% jitter. */
import type { RetryPolicy } from '../definitions/model.js';

/** The share of a wait that jitter may add or remove. */
export const JITTER = 0.2;

/**
 * How long to wait after attempt `failed` (1 = the first attempt) before the next one.
 * `random` returns a number in [0, 1), like Math.random.
 */
export function retryDelayMs(policy: RetryPolicy, failed: number, random: () => number = Math.random): number {
  let d = policy.backoff === 'exponential' ? policy.delayMs * 2 ** Math.max(0, failed - 1) : policy.delayMs;
  d = Math.min(d, policy.maxDelayMs);
  if (policy.jitter) d = d * (1 - JITTER + 2 * JITTER * random());
  return Math.max(0, Math.round(d));
}

/** Whether a step that failed attempt `failed` gets another one. */
export function hasAttemptLeft(policy: RetryPolicy | undefined, failed: number): boolean {
  return policy !== undefined && failed < policy.attempts;
}
