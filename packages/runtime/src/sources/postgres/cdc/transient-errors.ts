import { RuntimeError } from '../../../errors.js';
import { sleep } from '../../../sleep.js';
import { classifyPostgresError } from '../postgres-errors.js';

/**
 * Which failures of the CDC reader are worth another attempt, and the one retry loop that acts on them.
 * A replication connection drops when the server restarts, fails over or closes idle sessions; a slot is
 * briefly "in use" while the walsender of a connection that just closed has not exited yet. Both pass
 * with time; anything else (permissions, a missing table, a malformed stream) does not.
 */

/** object_in_use: a replication slot is held by another (possibly exiting) walsender. */
const SLOT_IN_USE = '55006';

/** The SQLSTATE or socket error code (a RuntimeError from pgError carries it as its cause). */
export function errorCode(error: unknown): string | undefined {
  const err = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  if (error instanceof RuntimeError) return typeof err?.cause?.code === 'string' ? err.cause.code : undefined;
  return typeof err?.code === 'string' ? err.code : undefined;
}

/**
 * A failure that passes with time: whatever `classifyPostgresError` calls source_unavailable (the server
 * restarting, overloaded or unreachable, the connection dropped), or a slot not released yet.
 */
export function isTransient(error: unknown): boolean {
  return classifyPostgresError(error).code === 'source_unavailable' || isSlotInUse(error);
}

/** The slot is held by a walsender (SQLSTATE 55006): ours that has not exited yet, or another reader's. */
export function isSlotInUse(error: unknown): boolean {
  return errorCode(error) === SLOT_IN_USE;
}

/** How `retry` repeats an attempt. */
export interface RetryPolicy {
  /** Attempts after the first one. */
  readonly retries: number;
  /** Whether a failure is worth another attempt. */
  readonly retryable: (error: unknown) => boolean;
  /** The pause before attempt `n + 1`, after attempt `n` (counted from 0) failed. */
  readonly delayMs: (attempt: number) => number;
}

/**
 * Runs `attempt(0)`, `attempt(1)`, … until one succeeds, a failure is not retryable, or `retries` more
 * attempts failed; throws the last failure.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.retries || !policy.retryable(error)) throw error;
      const ms = policy.delayMs(n);
      if (ms > 0) await sleep(ms);
    }
  }
}
