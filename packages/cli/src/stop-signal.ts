/**
 * Runs `work` with a signal that aborts on SIGINT (Ctrl-C) or SIGTERM, so a long-running command stops
 * cleanly; the handlers are removed when it returns.
 */
export async function untilStopped<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
