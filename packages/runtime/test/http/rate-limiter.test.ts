import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/http/rate-limiter.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, formatWait, requestedWait } from '../../src/http/retry-policy.js';

describe('TokenBucket', () => {
  it('lets a burst through, then holds the steady rate', async () => {
    const bucket = new TokenBucket({ requestsPerSecond: 20, burstLimit: 5 });
    const started = performance.now();
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 15 }, async () => {
        await bucket.take();
        times.push(performance.now() - started);
      }),
    );
    times.sort((a, b) => a - b);
    // 5 at once, then 10 more at 20/s: the last one no sooner than 500 ms in. (How soon each one goes
    // is checked on an injected clock below: a loaded machine's timers only ever fire late.)
    expect(times[14]!).toBeGreaterThanOrEqual(480);
    expect(times.filter((t) => t < 45)).toHaveLength(5);
  });

  it('computes waits from its clock (reservations queue in order)', async () => {
    let now = 0;
    const bucket = new TokenBucket({ requestsPerSecond: 2, burstLimit: 1 }, () => now);
    const reserve = (b: TokenBucket) => (b as unknown as { reserve(): number }).reserve();
    expect(reserve(bucket)).toBe(0);
    expect(reserve(bucket)).toBe(500);
    expect(reserve(bucket)).toBe(1000);
    now = 1000;
    expect(reserve(bucket)).toBe(500);
  });

  it('pauses every caller when the source asks', () => {
    let now = 0;
    const bucket = new TokenBucket({ requestsPerSecond: 100, burstLimit: 100 }, () => now);
    bucket.pause(3000);
    expect((bucket as unknown as { reserve(): number }).reserve()).toBe(3000);
    now = 3000;
    expect((bucket as unknown as { reserve(): number }).reserve()).toBe(0);
  });

  it('gives a slot back when a waiting caller is aborted', async () => {
    let now = 0;
    const bucket = new TokenBucket({ requestsPerSecond: 1, burstLimit: 1 }, () => now);
    await bucket.take();
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    now = 1000;
    expect((bucket as unknown as { reserve(): number }).reserve()).toBe(0);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new TokenBucket({ requestsPerSecond: 0, burstLimit: 1 })).toThrow(/requestsPerSecond > 0/);
  });
});

describe('retry policy', () => {
  it('backs off exponentially with jitter, capped', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
  });

  it('reads Retry-After as seconds or a date, and rate-limit reset headers', () => {
    const now = Date.parse('2026-12-08T10:00:00Z');
    expect(requestedWait({ 'retry-after': '120' }, now)).toBe(120_000);
    expect(requestedWait({ 'retry-after': 'Tue, 08 Dec 2026 10:00:30 GMT' }, now)).toBe(30_000);
    expect(requestedWait({ 'retry-after': 'Tue, 08 Dec 2026 09:00:00 GMT' }, now)).toBe(0);
    expect(requestedWait({ 'x-ratelimit-reset': String(now / 1000 + 42) }, now)).toBe(42_000);
    expect(requestedWait({ 'ratelimit-reset': '7' }, now)).toBe(7000);
    expect(requestedWait({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(requestedWait({}, now)).toBeUndefined();
  });

  it('words a wait', () => {
    expect(formatWait(950)).toBe('950 ms');
    expect(formatWait(42_000)).toBe('42 s');
    expect(formatWait(7 * 86_400_000)).toBe('7 d');
  });
});
