/** How often and how long a request is retried when the source is unavailable for now (429, 5xx, network). */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** The first backoff; each further attempt doubles it, up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * The most one request waits in all, over its retries. A server that asks for more (a Retry-After of a
   * week) fails the request at once with the wait it asked for, instead of holding the connector silently.
   */
  readonly maxTotalWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxTotalWaitMs: 5 * 60_000,
};

/**
 * The backoff before retry `attempt` (1 = the first retry): exponential with full jitter, so many
 * connectors throttled at once do not come back in step.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * The wait a response asks for, in milliseconds: `Retry-After` (delta-seconds or an HTTP date, RFC 9110
 * 10.2.3), else a rate-limit reset header (`RateLimit-Reset` in seconds; `X-RateLimit-Reset` in seconds, or
 * an epoch time when it is larger than a day's seconds). Undefined when the response names none.
 */
export function requestedWait(headers: Readonly<Record<string, string | undefined>>, now: number): number | undefined {
  const retryAfter = headers['retry-after']?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = (headers['ratelimit-reset'] ?? headers['x-ratelimit-reset'])?.trim();
  if (reset && /^\d+(\.\d+)?$/.test(reset)) {
    const value = Number(reset);
    // Epoch seconds are ~1.7e9; a delta above a day is surely one.
    return value > 86_400 ? Math.max(0, value * 1000 - now) : value * 1000;
  }
  return undefined;
}

/** A wait in words for an error message: 950 ms, 42 s, 12 min, 3 h, 7 d. */
export function formatWait(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 2 * 86_400_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}
