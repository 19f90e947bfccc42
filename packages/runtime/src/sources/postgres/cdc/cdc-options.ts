import type { SourceState, SqlConnectionOptions } from '../../source.js';

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

/**
 * What one CDC read of an entity uses (`PostgresCdcReader.read`). The postgres kind builds it from a
 * `log` read (`position`, `stopWhenCaughtUp`) and its options (`publication`, `slot`, `heartbeatSeconds`,
 * see postgres-options.ts); no other kind receives it.
 */
export interface PostgresCdcSettings {
  /** The publication that holds the entity's table (created with the slot when absent). */
  readonly publication: string;
  /** The logical replication slot the read streams from (created with a snapshot when absent). */
  readonly slot: string;
  /** Send a keep-alive/progress to the server at least this often, so an idle slot does not pin WAL (default 10). */
  readonly heartbeatSeconds?: number;
  /** End the read once caught up with the server's current WAL end (a `--once` run, tests), rather than follow it. */
  readonly stopWhenCaughtUp?: boolean;
  /** Where to start when the read has no saved state (`{ lsn }`); absent: a snapshot, then the changes after it. */
  readonly position?: SourceState;
}
