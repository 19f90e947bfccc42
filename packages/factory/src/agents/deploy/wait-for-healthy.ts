import type { DeployTarget } from './deploy-target.js';

export type HealthOutcome =
  { readonly healthy: true; readonly afterMs: number } | { readonly healthy: false; readonly reason: string };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

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
 * Polls a deployment's /health until it answers 200, the time runs out, or the signal aborts. The
 * reason of a failure is the connector's own last error when it exited, else the last probe's answer.
 */
export async function waitForHealthy(
  target: DeployTarget,
  deploymentId: string,
  options: { readonly timeoutMs: number; readonly intervalMs?: number; readonly signal?: AbortSignal },
): Promise<HealthOutcome> {
  const started = Date.now();
  let reason = 'not started';
  while (Date.now() - started < options.timeoutMs && options.signal?.aborted !== true) {
    const status = await target.status(deploymentId);
    if (!status) return { healthy: false, reason: 'the target no longer runs it' };
    const failure = await probeHealth(status.healthUrl);
    if (failure === undefined) return { healthy: true, afterMs: Date.now() - started };
    reason = status.lastExit && status.lastError ? `it exited (${status.lastError})` : failure;
    await sleep(options.intervalMs ?? 500, options.signal);
  }
  return { healthy: false, reason: `not healthy within ${Math.round(options.timeoutMs / 1000)} s: ${reason}` };
}
