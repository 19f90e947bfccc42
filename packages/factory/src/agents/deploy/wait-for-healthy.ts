import type { DeployTarget } from './deploy-target.js';
import { setTimeout as delay } from 'node:timers/promises';

export type HealthOutcome =
  { readonly healthy: true; readonly afterMs: number } | { readonly healthy: false; readonly reason: string };

/** One GET of a health URL: the failing reason, or undefined when it answered 200. */
export async function probeHealth(url: string, timeoutMs = 3000): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (response.ok) return undefined;
    const body = (await response.json().catch(() => ({}))) as { reason?: unknown };
    return `${url} answered ${response.status}${typeof body.reason === 'string' ? `: ${body.reason}` : ''}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return `${url} did not answer (${cause ?? (error as Error).message})`;
  }
}

/**
 * Polls a deployment until its /health and /ready both answer 200 and keep doing so for `settleMs`
 * (a connector serves /health before it has reached its source and lake; one that fails right after
 * starting must not count as healthy), the time runs out, or the signal aborts. The reason of a
 * failure is the connector's own last error when it exited, else the last probe's answer.
 */
export async function waitForHealthy(
  target: DeployTarget,
  deploymentId: string,
  options: {
    readonly timeoutMs: number;
    readonly intervalMs?: number;
    /** How long it must stay healthy and ready. Default 2000 ms. */
    readonly settleMs?: number;
    readonly signal?: AbortSignal;
  },
): Promise<HealthOutcome> {
  const started = Date.now();
  const settleMs = options.settleMs ?? 2000;
  let reason = 'not started';
  let healthySince: number | undefined;
  let exits: string | undefined;
  while (Date.now() - started < options.timeoutMs && options.signal?.aborted !== true) {
    const status = await target.status(deploymentId);
    if (!status) return { healthy: false, reason: 'the target no longer runs it' };
    // A process that exited since the last look restarts the settling.
    const exitMark = status.lastExit?.at;
    if (exitMark !== exits) healthySince = undefined;
    exits = exitMark;
    const failure = (await probeHealth(status.healthUrl)) ?? (await probeHealth(`${status.endpoint}/ready`));
    if (failure === undefined && status.state === 'running') {
      healthySince ??= Date.now();
      if (Date.now() - healthySince >= settleMs) return { healthy: true, afterMs: Date.now() - started };
    } else {
      healthySince = undefined;
      reason =
        status.lastExit && status.lastError ? `it exited (${status.lastError})` : (failure ?? `it is ${status.state}`);
    }
    // Less when the signal aborts; Node's timer removes its abort listener when it fires.
    await delay(options.intervalMs ?? 250, undefined, options.signal ? { signal: options.signal } : {}).catch(
      () => undefined,
    );
  }
  return { healthy: false, reason: `not healthy within ${Math.round(options.timeoutMs / 1000)} s: ${reason}` };
}
