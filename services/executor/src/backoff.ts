import type { Backoff } from '@pipewright/contracts';

/** Delay before retry number `attempt` (1 = after the first failure), with ±20 % jitter. */
export function backoffDelay(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const base = Math.min(b.initialMs * b.multiplier ** (attempt - 1), b.maxMs);
  const jitter = 0.8 + 0.4 * random();
  return Math.round(base * jitter);
}
