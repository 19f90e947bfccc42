import type pg from 'pg';
import { RuntimeError } from '../../../errors.js';
import type { SqlConnectionOptions } from '../../source.js';
import { connectPostgres, pgError, quoteIdent } from '../postgres-connection.js';
import { catalog } from './catalog.js';
import { formatLsn, parseLsn } from './lsn.js';
import { validateReplicationName } from './replication-names.js';
import { isSlotInUse, retry } from './transient-errors.js';
import { sleep } from '../../../sleep.js';

/**
 * The logical replication slot of a CDC reader: its state, creation with an exported snapshot, advancing
 * it by SQL, taking it from a stale walsender, and `dropReplication` (run when a connector is removed).
 */

export interface SlotInfo {
  readonly plugin: string | null;
  readonly slotType: string;
  readonly database: string | null;
  readonly activePid: number | null;
  readonly confirmedFlush: bigint | undefined;
  readonly walStatus: string | null;
}

export async function slotInfo(client: pg.Client, slot: string): Promise<SlotInfo | undefined> {
  const rows = await catalog<{
    plugin: string | null;
    slot_type: string;
    database: string | null;
    active_pid: number | null;
    confirmed_flush_lsn: string | null;
    wal_status: string | null;
  }>(
    client,
    `SELECT plugin, slot_type, database, active_pid, confirmed_flush_lsn::text AS confirmed_flush_lsn, wal_status
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    plugin: row.plugin,
    slotType: row.slot_type,
    database: row.database,
    activePid: row.active_pid,
    confirmedFlush: row.confirmed_flush_lsn ? parseLsn(row.confirmed_flush_lsn) : undefined,
    walStatus: row.wal_status,
  };
}

/**
 * Terminates the walsender holding `slot`, when `onlyApplication` is unset or matches its
 * application_name (our own stale connection after a network failure). Returns whether one was signalled.
 */
export async function terminateSlotHolder(client: pg.Client, slot: string, onlyApplication?: string): Promise<boolean> {
  const rows = await catalog<{ terminated: boolean | null }>(
    client,
    `SELECT pg_terminate_backend(s.active_pid) AS terminated
       FROM pg_replication_slots s LEFT JOIN pg_stat_activity a ON a.pid = s.active_pid
      WHERE s.slot_name = $1 AND s.active_pid IS NOT NULL AND ($2::text IS NULL OR a.application_name = $2)`,
    [slot, onlyApplication ?? null],
  );
  return rows.some((r) => r.terminated === true);
}

/** Drops `slot` if it exists, terminating the walsender that holds it first. Idempotent. */
export async function dropSlot(client: pg.Client, slot: string): Promise<boolean> {
  // A walsender can take the slot again between the termination and the drop: retry while it is in use.
  return await retry(
    async (attempt) => {
      const info = await slotInfo(client, slot);
      if (!info) return false;
      if (info.activePid !== null) {
        await terminateSlotHolder(client, slot);
        await sleep(Math.min(50 * 2 ** attempt, 1000));
      }
      try {
        await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === '42704') return false; // dropped by someone else meanwhile
        throw error;
      }
    },
    { retries: 30, retryable: isSlotInUse, delayMs: () => 0 },
  );
}

/**
 * Moves the slot's confirmed position to `lsn` by SQL (no replication connection is open), never backwards.
 * The walsender of a connection just closed may not have released the slot yet: retried while in use.
 */
export async function advanceSlot(client: pg.Client, slot: string, lsn: bigint, url: string): Promise<void> {
  try {
    await retry(
      async () => {
        const info = await slotInfo(client, slot);
        if (!info || (info.confirmedFlush !== undefined && info.confirmedFlush >= lsn)) return;
        await client.query('SELECT pg_replication_slot_advance($1, $2::pg_lsn)', [slot, formatLsn(lsn)]);
      },
      { retries: 20, retryable: isSlotInUse, delayMs: () => 100 },
    );
  } catch (error) {
    throw pgError(error, url, `confirming ${formatLsn(lsn)} to slot ${slot}`);
  }
}

/**
 * Creates the logical slot with pgoutput on a replication connection and exports its snapshot. The
 * snapshot lives only while that connection stays idle: import it (`SET TRANSACTION SNAPSHOT`) before
 * running anything else on it.
 */
export async function createSlotWithSnapshot(
  replication: pg.Client,
  slot: string,
): Promise<{ consistentPoint: bigint; snapshotName: string }> {
  const { rows } = await replication.query<{ consistent_point: string; snapshot_name: string | null }>(
    `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput EXPORT_SNAPSHOT`,
  );
  const row = rows[0];
  if (!row || !row.snapshot_name)
    throw new RuntimeError('internal', `postgres cdc: CREATE_REPLICATION_SLOT ${slot} returned no snapshot`);
  return { consistentPoint: parseLsn(row.consistent_point, 'consistent_point'), snapshotName: row.snapshot_name };
}

/**
 * Drops the connector's replication slot (terminating a walsender still attached to it) and its
 * publication. Idempotent: missing ones are fine. Run when a connector is removed, so the slot stops
 * pinning WAL on the server.
 */
export async function dropReplication(
  url: string | SqlConnectionOptions,
  slot: string,
  publication: string,
): Promise<void> {
  validateReplicationName('slot', slot);
  validateReplicationName('publication', publication);
  const options: SqlConnectionOptions = typeof url === 'string' ? { url } : url;
  const client = await connectPostgres(options, { applicationName: 'connector-factory-drop' });
  try {
    await dropSlot(client, slot);
    await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(publication)}`);
  } catch (error) {
    throw pgError(error, options.url, `dropping slot ${slot} and publication ${publication}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh pg.Client for replication (walsender) use, with the canonical session settings. */
export async function connectReplication(options: SqlConnectionOptions, applicationName: string): Promise<pg.Client> {
  return await connectPostgres(options, { applicationName, extra: { replication: 'database' } });
}
