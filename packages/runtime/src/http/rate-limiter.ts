import { setTimeout as delay } from 'node:timers/promises';

/** The manifest's `rateLimit`: a steady rate and the burst the source allows above it. */
export interface RateLimitSettings {
  readonly requestsPerSecond: number;
  readonly burstLimit: number;
}

/**
 * A token bucket shared by every request of a connector: up to `burstLimit` requests go at once, then
 * `requestsPerSecond`. Each caller reserves its slot when it asks (the balance may go below zero), so
 * concurrent callers are served in the order they asked and never all wake at the same instant.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private blockedUntil = 0;

  constructor(
    readonly settings: RateLimitSettings,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(settings.requestsPerSecond > 0) || !(settings.burstLimit >= 1))
      throw new RangeError('a rate limit needs requestsPerSecond > 0 and burstLimit ≥ 1');
    this.tokens = settings.burstLimit;
    this.updatedAt = now();
  }

  /** Waits until a request may go; an abort gives the reserved slot back. */
  async take(signal?: AbortSignal): Promise<void> {
    const wait = this.reserve();
    if (wait <= 0) return;
    try {
      await delay(wait, undefined, signal ? { signal } : {});
    } catch (error) {
      this.tokens += 1;
      throw error;
    }
  }

  /**
   * Holds every request back for `ms` (the source said so, in a 429's Retry-After): one throttled
   * request slows the whole connector down instead of each request finding out for itself.
   */
  pause(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.now() + ms);
  }

  /** Reserves a slot and returns how long to wait for it, in milliseconds. */
  private reserve(): number {
    const now = this.now();
    const { requestsPerSecond, burstLimit } = this.settings;
    this.tokens = Math.min(burstLimit, this.tokens + ((now - this.updatedAt) / 1000) * requestsPerSecond);
    this.updatedAt = now;
    this.tokens -= 1;
    const forTokens = this.tokens >= 0 ? 0 : (-this.tokens / requestsPerSecond) * 1000;
    return Math.max(forTokens, this.blockedUntil - now);
  }
}
