import { setTimeout as delay } from 'node:timers/promises';

/**
 * Resolves after `ms`, or at once when `signal` aborts (never rejects): the one wait between attempts,
 * polls and scheduled runs. Node's timer removes its abort listener when it fires, so a connector that
 * waits for months keeps none. A wait whose abort must end the caller with an error uses
 * `node:timers/promises` directly.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
}
