/** When and how long to wait before trying a request again. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited out: the command fails and says when to come back. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

/** Statuses that say "not now": throttled, or a gateway/server that may answer next time. */
export const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

/** Failures where the request may never have reached the server, or its answer was lost. */
const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

export const isRetryableError = (code: string | undefined): boolean => code !== undefined && RETRYABLE_CODES.has(code);

/**
 * Exponential backoff with full jitter (a uniform wait up to the capped exponential), so many
 * clients throttled at once do not come back in step. `attempt` is the one that just failed (1-based).
 */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * How long a "not now" answer asks to wait. Discord's 429 body `retry_after` (float seconds) is
 * more precise than its whole-second Retry-After header, and X-RateLimit-Reset-After stands in
 * when a proxy dropped that header.
 */
export function waitMs(status: number, headers: Record<string, string | undefined>, text: string, now: Date): number | undefined {
  if (status === 429) {
    try {
      const body = JSON.parse(text) as { retry_after?: unknown };
      if (typeof body?.retry_after === "number" && body.retry_after >= 0) return Math.ceil(body.retry_after * 1000);
    } catch {
      // Not JSON: the headers say it or nothing does.
    }
  }
  return retryAfterMs(headers["retry-after"], now) ?? (status === 429 ? retryAfterMs(headers["x-ratelimit-reset-after"], now) : undefined);
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
