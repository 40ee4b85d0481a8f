/**
 * When a queued push is tried again: 30 s after its first failure, doubling up to an hour, each
 * wait spread by a tenth either way so rows that failed together do not come back in step; never
 * sooner than the tracker's Retry-After. After three days of failing it is given up ('failed').
 */
export const FIRST_RETRY_MS = 30_000;
export const MAX_RETRY_MS = 60 * 60_000;
export const GIVE_UP_MS = 3 * 24 * 60 * 60_000;
/**
 * How long a claim holds: longer than any one send (a few requests, each up to its timeout and
 * retries), so only a sender that died loses its rows to another, and only after this long.
 */
export const LEASE_MS = 15 * 60_000;

/** The wait after the attempt numbered `attempts` (1 = the first) failed; random is uniform in [0, 1). */
export function retryDelayMs(attempts: number, random: () => number): number {
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.9 + 0.2 * random()));
}

/** The next attempt's time (ms since the epoch) after a failed one at `now`. */
export function nextAttemptAt(now: number, attempts: number, random: () => number, retryAfterMs?: number): number {
  return now + Math.max(retryDelayMs(attempts, random), retryAfterMs ?? 0);
}
