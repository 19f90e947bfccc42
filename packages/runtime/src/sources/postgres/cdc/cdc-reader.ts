import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { RuntimeError } from '../../../errors.js';
import { newRecord, type Row } from '../../../records/record.js';
import type { EntityRef, SourceChunk, SourceState } from '../../source.js';
import { copyTextChunks } from '../copy-chunks.js';
import { startCopyOut } from '../copy-out.js';
import { connectPostgres, pgError, quoteIdent } from '../postgres-connection.js';
import { rawTextPgTypes } from '../postgres-values.js';
import type { PostgresCdcOptions, PostgresCdcSettings } from './cdc-options.js';
import { setField, type MutableRow } from './cdc-rows.js';
import { CdcSession } from './cdc-session.js';
import { cdcState, savedLsn } from './cdc-state.js';
import { describeTable, type TableShape } from './cdc-table.js';
import { formatLsn, parseLsn } from './lsn.js';
import { checkPublishes, ensurePublication, publicationState } from './publications.js';
import { validateReplicationName } from './replication-names.js';
import { advanceSlot, connectReplication, createSlotWithSnapshot, dropSlot, slotInfo } from './slots.js';

/**
 * The CDC reader: set-up (publication, slot, replica identity checks), the initial snapshot, streaming
 * through a CdcSession, and acknowledgement of what the lake committed. How it works: README.md.
 */

/**
 * Reads one table's changes through a logical replication slot (see README.md beside this file). One read at a
 * time; `acknowledge` confirms what the lake committed; `close` ends every connection.
 */
export class PostgresCdcReader {
  private readonly chunkRows: number;
  private readonly applicationName = `cf_cdc_${randomBytes(6).toString('hex')}`;
  private adminClient: Promise<pg.Client> | undefined;
  private session: CdcSession | undefined;
  private slot: string | undefined;
  private reading = false;
  private closed = false;

  constructor(private readonly options: PostgresCdcOptions) {
    const chunkRows = options.chunkRows ?? 10_000;
    if (!Number.isInteger(chunkRows) || chunkRows < 1)
      throw new RuntimeError('config', `chunkRows must be a positive integer, not ${chunkRows}`);
    this.chunkRows = chunkRows;
    if (
      options.unchangedToast !== undefined &&
      options.unchangedToast !== 'fetch' &&
      options.unchangedToast !== 'omit'
    ) {
      throw new RuntimeError(
        'config',
        `postgres cdc: unchangedToast must be 'fetch' or 'omit', not ${JSON.stringify(options.unchangedToast)}`,
      );
    }
  }

  /** Reads from `state`, else from `settings.position`, else from a new snapshot. */
  read(
    entity: EntityRef,
    settings: PostgresCdcSettings,
    state: SourceState | undefined,
    signal?: AbortSignal,
  ): AsyncIterable<SourceChunk> {
    return this.run(entity, settings, state ?? settings.position, signal);
  }

  /** Confirms `state.lsn` to the slot: the lake committed everything up to it. Never confirms more. */
  async acknowledge(state: SourceState): Promise<void> {
    if (this.closed) throw new RuntimeError('internal', 'postgres cdc: acknowledge() after close()');
    const lsn = parseLsn(state.lsn, 'the acknowledged state lsn');
    const session = this.session;
    if (session?.live) {
      // Sent now, or when the connection is back (streaming restarts at the confirmed position anyway).
      session.acknowledge(lsn);
      return;
    }
    // No replication connection (the snapshot's state, or after a failed read): advance the slot by SQL.
    if (!this.slot) return;
    await advanceSlot(await this.admin(), this.slot, lsn, this.options.url);
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = undefined;
    await session?.end();
    const admin = this.adminClient;
    this.adminClient = undefined;
    if (admin) await admin.then((c) => c.end()).catch(() => undefined);
  }

  /** A shared connection for catalog queries and TOAST read-backs, reconnected when it broke. */
  private async admin(): Promise<pg.Client> {
    if (this.closed) throw new RuntimeError('internal', 'postgres cdc: the reader is closed');
    if (!this.adminClient) {
      const connecting = connectPostgres(this.options, { applicationName: `${this.applicationName}_admin` });
      this.adminClient = connecting;
      connecting.then(
        (client) => {
          const drop = () => {
            if (this.adminClient === connecting) this.adminClient = undefined;
          };
          client.once('error', drop);
          client.once('end', drop);
        },
        () => {
          if (this.adminClient === connecting) this.adminClient = undefined;
        },
      );
    }
    return await this.adminClient;
  }

  private async *run(
    entity: EntityRef,
    settings: PostgresCdcSettings,
    state: SourceState | undefined,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<SourceChunk> {
    if (this.closed) throw new RuntimeError('internal', 'postgres cdc: the reader is closed');
    if (this.reading) throw new RuntimeError('internal', 'postgres cdc: one read at a time per reader');
    this.reading = true;
    try {
      const slot = validateReplicationName('slot', settings.slot);
      const publication = validateReplicationName('publication', settings.publication);
      const heartbeatSeconds = settings.heartbeatSeconds ?? 10;
      if (!(heartbeatSeconds > 0))
        throw new RuntimeError('config', `postgres cdc: heartbeatSeconds must be positive, not ${heartbeatSeconds}`);
      // A previous read's connection (kept for its acknowledgements) gives the slot up first.
      const previous = this.session;
      this.session = undefined;
      await previous?.end();
      this.slot = slot;
      if (signal?.aborted) return;

      const admin = await this.admin();
      const shape = await describeTable(admin, entity, this.options.unchangedToast ?? 'fetch').catch(
        (error: unknown) => {
          throw pgError(error, this.options.url, `preparing CDC of ${entity.name}`);
        },
      );
      let resume = savedLsn(state);
      let acked = resume ?? 0n;
      let confirmed = 0n;
      if (resume === undefined) {
        const consistentPoint = yield* this.snapshot(admin, shape, slot, publication, signal);
        if (consistentPoint === undefined) return;
        resume = consistentPoint;
        acked = consistentPoint;
      } else {
        confirmed = await this.checkResumable(admin, shape, slot, publication, resume);
      }
      if (signal?.aborted) return;
      const session = new CdcSession(
        {
          options: this.options,
          shape,
          slot,
          publication,
          applicationName: this.applicationName,
          chunkRows: this.chunkRows,
          heartbeatMs: heartbeatSeconds * 1000,
          stopWhenCaughtUp: settings.stopWhenCaughtUp === true,
          admin: () => this.admin(),
        },
        resume,
        acked,
        confirmed,
      );
      this.session = session;
      try {
        yield* session.run(signal);
      } catch (error) {
        this.session = undefined;
        await session.end();
        throw error instanceof RuntimeError
          ? error
          : pgError(error, this.options.url, `streaming changes of ${entity.name}`);
      }
    } finally {
      this.reading = false;
    }
  }

  /** A saved position can only be resumed if the slot still exists and the publication still has the table. */
  private async checkResumable(
    admin: pg.Client,
    shape: TableShape,
    slot: string,
    publication: string,
    resume: bigint,
  ): Promise<bigint> {
    const reset = "reset the connector's state for this entity to take a new snapshot";
    try {
      const info = await slotInfo(admin, slot);
      if (!info)
        throw new RuntimeError(
          'config',
          `postgres cdc: the replication slot ${slot} no longer exists, so changes since ${formatLsn(resume)} are lost; ${reset}`,
        );
      if (info.plugin !== 'pgoutput')
        throw new RuntimeError(
          'config',
          `postgres cdc: the replication slot ${slot} uses ${info.plugin ?? 'no plugin'}, not pgoutput; drop it and ${reset}`,
        );
      if (info.walStatus === 'lost')
        throw new RuntimeError(
          'config',
          `postgres cdc: the replication slot ${slot} lost required WAL (max_slot_wal_keep_size); ${reset}`,
        );
      // The slot may have confirmed beyond the saved state: only over quiet WAL (README.md, "Acknowledgement and heartbeats").
      const confirmed = info.confirmedFlush ?? 0n;
      const pub = await publicationState(admin, publication, shape.table);
      if (pub.exists && shape.table.partitioned && !pub.viaRoot) {
        // Published by partition, the changes came under the partitions' names and were not read.
        throw new RuntimeError(
          'config',
          `postgres cdc: the publication ${publication} no longer publishes the partitioned table ${shape.table.sql} via its root (publish_via_partition_root), so changes may have been missed; run ALTER PUBLICATION ${publication} SET (publish_via_partition_root = true) and ${reset}`,
        );
      }
      if (!pub.exists || !pub.hasTable) {
        throw new RuntimeError(
          'config',
          `postgres cdc: the publication ${publication} ${pub.exists ? `no longer contains ${shape.table.sql}` : 'no longer exists'}, so changes may have been missed; ${reset}`,
        );
      }
      checkPublishes(pub, publication);
      return confirmed;
    } catch (error) {
      throw pgError(error, this.options.url, `resuming CDC of ${shape.table.sql}`);
    }
  }

  /**
   * Creates the publication and the slot, and copies the table as of the slot's consistent point. Returns
   * that point, or undefined when aborted.
   */
  private async *snapshot(
    admin: pg.Client,
    shape: TableShape,
    slot: string,
    publication: string,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<SourceChunk, bigint | undefined> {
    const { url } = this.options;
    let replication: pg.Client | undefined;
    let reader: pg.Client | undefined;
    try {
      try {
        await ensurePublication(admin, publication, shape.table);
        // A slot without a saved state is a snapshot that never finished: start over.
        await dropSlot(admin, slot);
        replication = await connectReplication(this.options, this.applicationName);
        const { consistentPoint, snapshotName } = await createSlotWithSnapshot(replication, slot);
        reader = await connectPostgres(this.options, {
          applicationName: `${this.applicationName}_snapshot`,
          types: rawTextPgTypes,
        });
        await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await reader.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replace(/'/g, "''")}'`);
        // Imported: the exporting connection is no longer needed (the slot persists).
        await replication.end().catch(() => undefined);
        replication = undefined;
        if (signal?.aborted) return undefined;

        const names = shape.fields.map((f) => f.name);
        const converters = shape.fields.map((f) => f.convert);
        const build = (values: (string | null)[]): Row => {
          const row: MutableRow = newRecord();
          for (let i = 0; i < names.length; i++) {
            const text = values[i];
            setField(row, names[i]!, text === null || text === undefined ? null : converters[i]!(text));
          }
          row._op = 'r';
          return row;
        };
        const select = shape.fields.map((f) => quoteIdent(f.name)).join(', ');
        const copy = startCopyOut(reader, `COPY (SELECT ${select} FROM ${shape.table.sql}) TO STDOUT`, this.chunkRows);
        let finished = false;
        for await (const chunk of copyTextChunks(copy.blocks(signal), build)) {
          if (!chunk.last) {
            yield { kind: 'rows', rows: chunk.rows };
            continue;
          }
          await reader.query('COMMIT');
          finished = true;
          yield { kind: 'rows', rows: chunk.rows, state: cdcState(consistentPoint) };
        }
        if (!finished) return undefined;
        return consistentPoint;
      } catch (error) {
        if (signal?.aborted) return undefined;
        throw pgError(error, url, `taking the initial snapshot of ${shape.table.sql}`);
      }
    } finally {
      await replication?.end().catch(() => undefined);
      await reader?.end().catch(() => undefined);
    }
  }
}
