import { createServer } from 'node:net';

/** Binds `port` (0: any) on `host` for a moment and returns the port bound; rejects when it is taken. */
function tryPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (bound > 0 ? resolve(bound) : reject(new Error('the OS gave no port'))));
    });
  });
}

/**
 * A TCP port free on `host` right now: `preferred` when it is free, else one the OS picks; the caller
 * binds it soon after.
 */
export async function freePort(host = '127.0.0.1', preferred = 0): Promise<number> {
  if (preferred > 0) {
    const kept = await tryPort(host, preferred).catch(() => undefined);
    if (kept !== undefined) return kept;
  }
  return tryPort(host, 0);
}
