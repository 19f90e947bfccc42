import { RuntimeError } from '../../../errors.js';
import type { ObjectStore } from '../../../stores/object-store.js';
import type { CommittedBatch, FileStats, TableChange, TableFile, TableLog, TableSnapshot } from '../../table-log.js';
import type { Column, PhysicalType } from '../../table-schema.js';
import {
  decimalType,
  decodeDeltaPath,
  encodeDeltaPath,
  newMetadata,
  newProtocol,
  schemaString,
  statsString,
  type CommitInfo,
  type DeltaAction,
  type DeltaField,
  type DeltaPrimitiveType,
  type Txn,
} from './delta-actions.js';
import { DeltaLog } from './delta-log.js';

/**
 * Delta types of the physical types: int64 → long, float64 → double, decimal(p,s) → decimal(p,s),
 * date → date, timestamp → timestamp (UTC microseconds), json → string (Delta has no JSON type).
 */
export function deltaType(physical: PhysicalType): DeltaPrimitiveType {
  switch (physical.kind) {
    case 'int64':
      return 'long';
    case 'float64':
      return 'double';
    case 'decimal':
      return decimalType(physical.precision, physical.scale);
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp';
    case 'string':
    case 'json':
      return 'string';
  }
}

/** The Delta schema of a table's columns (partition columns included, as Delta wants). */
export function deltaFields(columns: readonly Column[]): DeltaField[] {
  return columns.map((c) => ({ name: c.name, type: deltaType(c.physical), nullable: c.nullable }));
}

function parseStats(text: string | undefined): FileStats | undefined {
  if (text === undefined) return undefined;
  try {
    const stats = JSON.parse(text) as Partial<FileStats>;
    if (typeof stats.numRecords !== 'number') return undefined;
    return {
      numRecords: stats.numRecords,
      minValues: stats.minValues ?? {},
      maxValues: stats.maxValues ?? {},
      nullCount: stats.nullCount ?? {},
    };
  } catch {
    return undefined;
  }
}

/** The commitInfo operation parameter that carries the source state of a batch. */
const STATE_PARAMETER = 'connectorFactoryState';

/**
 * A Delta table as the lake writer's TableLog: data files go straight to their final paths (a file
 * no commit names is invisible to Delta readers) and one commit adds, removes and records the batch's
 * `txn` for exactly-once.
 */
export class DeltaTableLog implements TableLog {
  private constructor(
    private readonly store: ObjectStore,
    private readonly log: DeltaLog,
    private readonly fields: readonly DeltaField[],
    private readonly partitionColumns: readonly string[],
    private readonly name: string,
  ) {}

  static async open(
    store: ObjectStore,
    options: {
      columns: readonly Column[];
      partitionColumns: readonly string[];
      name: string;
      checkpointInterval?: number;
      tempDirectory?: string;
    },
  ): Promise<DeltaTableLog> {
    const log = await DeltaLog.open(store, {
      ...(options.checkpointInterval !== undefined ? { checkpointInterval: options.checkpointInterval } : {}),
      ...(options.tempDirectory !== undefined ? { tempDirectory: options.tempDirectory } : {}),
    });
    return new DeltaTableLog(store, log, deltaFields(options.columns), options.partitionColumns, options.name);
  }

  uploadKey(path: string): string {
    return path;
  }

  async snapshot(): Promise<TableSnapshot> {
    const snapshot = await this.log.snapshot();
    const files = new Map<string, TableFile>();
    for (const add of snapshot.files.values()) {
      const path = decodeDeltaPath(add.path);
      const stats = parseStats(add.stats);
      files.set(path, { path, size: add.size, partitionValues: add.partitionValues, ...(stats ? { stats } : {}) });
    }
    return { version: snapshot.version, files, txns: snapshot.txns };
  }

  async commit(change: TableChange): Promise<number> {
    const now = Date.now();
    const actions: DeltaAction[] = [];
    const current = await this.log.snapshot();
    const wanted = schemaString(this.fields);
    const partitionsMatch =
      current.metadata !== undefined &&
      JSON.stringify(current.metadata.partitionColumns) === JSON.stringify(this.partitionColumns);
    if (current.version < 0) {
      actions.push(
        { protocol: newProtocol() },
        { metaData: newMetadata({ fields: this.fields, partitionColumns: this.partitionColumns, name: this.name }) },
      );
    } else if (current.metadata?.schemaString !== wanted || !partitionsMatch) {
      if (change.operation !== 'CREATE OR REPLACE TABLE') {
        throw new RuntimeError(
          'config',
          `${this.store.url}: the table's schema or partitioning differs from the connector's; an overwrite replaces it, other write modes need the drift workflow`,
        );
      }
      actions.push({
        metaData: {
          ...newMetadata({ fields: this.fields, partitionColumns: this.partitionColumns, name: this.name }),
          id: current.metadata?.id ?? newMetadata({ fields: this.fields }).id,
        },
      });
    }
    for (const file of change.remove) {
      actions.push({
        remove: {
          path: encodeDeltaPath(file.path),
          deletionTimestamp: now,
          dataChange: change.dataChange,
          extendedFileMetadata: true,
          partitionValues: file.partitionValues,
          size: file.size,
        },
      });
    }
    for (const file of change.add) {
      actions.push({
        add: {
          path: encodeDeltaPath(file.path),
          partitionValues: file.partitionValues,
          size: file.size,
          modificationTime: now,
          dataChange: change.dataChange,
          ...(file.stats ? { stats: statsString(file.stats) } : {}),
        },
      });
    }
    actions.push({ txn: { appId: change.appId, version: change.sequence, lastUpdated: now } });
    return this.log.commit(actions, {
      operation: change.operation,
      operationParameters: {
        ...change.parameters,
        ...(change.state !== undefined ? { [STATE_PARAMETER]: JSON.stringify(change.state) } : {}),
      },
      readVersion: change.readVersion,
      // Creating the table or changing its metadata is never a blind append.
      isBlindAppend:
        change.operation === 'WRITE' && change.remove.length === 0 && !actions.some((a) => 'metaData' in a),
    });
  }

  async lastCommit(appId: string): Promise<CommittedBatch | undefined> {
    const snapshot = await this.log.snapshot();
    const sequence = snapshot.txns.get(appId);
    if (sequence === undefined) return undefined;
    // The commit that carries this txn is almost always the latest; walk back until it turns up.
    for (let version = snapshot.version; version >= 0; version--) {
      const actions = await this.log.readCommit(version);
      if (!actions) break;
      const txn = actions.find((a): a is { txn: Txn } => 'txn' in a && a.txn.appId === appId);
      if (!txn) continue;
      const info = actions.find((a): a is { commitInfo: CommitInfo } => 'commitInfo' in a);
      const text = info?.commitInfo.operationParameters?.[STATE_PARAMETER];
      return { sequence: txn.txn.version, state: typeof text === 'string' ? (JSON.parse(text) as unknown) : null };
    }
    return { sequence, state: null };
  }

  async recover(ownedPrefix: string): Promise<void> {
    // Data files a crashed writer of this app uploaded but no commit ever named (live or tombstoned).
    const snapshot = await this.log.snapshot();
    const named = new Set([...snapshot.files.keys(), ...snapshot.tombstones.keys()].map(decodeDeltaPath));
    const prefix = `part-${ownedPrefix}`;
    const orphans = (await this.store.list(''))
      .map((o) => o.key)
      .filter((key) => !key.startsWith('_') && key.split('/').pop()!.startsWith(prefix) && !named.has(key));
    await this.store.delete(orphans);
  }
}
