import type { SqlConnectionOptions } from '../../source.js';

/** Options of the CDC reader: the SQL connection options plus the knobs below. */
export interface PostgresCdcOptions extends SqlConnectionOptions {
  /** Unchanged TOAST values of updates without the old row: read back (default) or leave the field out. */
  readonly unchangedToast?: 'fetch' | 'omit';
  /** Reconnection attempts after the replication connection drops (default 10). */
  readonly reconnectAttempts?: number;
  /** First reconnection delay; doubles per attempt (default 250 ms). */
  readonly reconnectDelayMs?: number;
  /** Longest reconnection delay (default 10 000 ms). */
  readonly reconnectMaxDelayMs?: number;
  /** With stopWhenCaughtUp: end after this long without any message from the server (default 5000 ms). */
  readonly caughtUpIdleMs?: number;
  /** Rows decoded ahead of the consumer before the socket is paused (default 4 × chunkRows). */
  readonly maxBufferedRows?: number;
}
