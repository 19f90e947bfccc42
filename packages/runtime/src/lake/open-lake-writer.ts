import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Compression, LakeFormat, WriteMode } from '@connector-factory/ir';
import { openStore } from '../stores/open-store.js';
import type { ObjectStore } from '../stores/object-store.js';
import type { S3StoreOptions } from '../stores/s3/s3-store.js';
import type { FormatEncoder } from './format-encoder.js';
import { avroEncoder } from './formats/avro/avro-encoder.js';
import { DeltaTableLog } from './formats/delta/delta-table-log.js';
import { jsonEncoder } from './formats/json/json-encoder.js';
import { parquetEncoder } from './formats/parquet/parquet-encoder.js';
import { LakeWriter, type LakeWriterOptions } from './lake-writer.js';
import { PlainLog } from './plain/plain-log.js';
import { DT_COLUMN, type Row } from './stage.js';
import { isDerivedPartition, type TableSchema } from './table-schema.js';

/** A destination as the manifest gives it, plus the runtime's knobs. */
export interface OpenLakeWriterOptions {
  /** `s3://bucket/prefix/`, `file:///path` or a local folder: the table's root. */
  readonly lakePath: string;
  readonly format: LakeFormat;
  readonly compression?: Compression | undefined;
  readonly writeMode: WriteMode;
  readonly schema: TableSchema;
  /** The connector id: batches are `<appId>@<sequence>`. */
  readonly appId: string;
  /** Local scratch folder (default: a new temp folder). */
  readonly workDir?: string;
  readonly store?: ObjectStore;
  readonly s3?: S3StoreOptions;
  readonly targetFileBytes?: number;
  readonly rowGroupBytes?: number;
  readonly flushRows?: number;
  readonly memoryLimit?: string;
  /** Delta: write a checkpoint every this many commits (default 10). */
  readonly checkpointInterval?: number;
  readonly isDelete?: (row: Row) => boolean;
}

const ENCODERS: Record<LakeFormat, FormatEncoder> = {
  parquet: parquetEncoder,
  delta: parquetEncoder,
  json: jsonEncoder,
  avro: avroEncoder,
};

/** Opens the writer of a table: its store, its log (Delta's or the plain formats'), its encoder. */
export async function openLakeWriter(options: OpenLakeWriterOptions): Promise<LakeWriter> {
  const store = options.store ?? openStore(options.lakePath, options.s3);
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'cf-lake-')));
  const columns = [
    ...options.schema.columns,
    ...(options.schema.partitionBy.some((p) => isDerivedPartition(options.schema, p)) ? [DT_COLUMN] : []),
  ];
  const log =
    options.format === 'delta'
      ? await DeltaTableLog.open(store, {
          columns,
          partitionColumns: options.schema.partitionBy,
          name: options.appId,
          tempDirectory: workDir,
          ...(options.checkpointInterval !== undefined ? { checkpointInterval: options.checkpointInterval } : {}),
        })
      : new PlainLog(store);
  const writerOptions: LakeWriterOptions = {
    store,
    log,
    encoder: ENCODERS[options.format],
    format: options.format,
    schema: options.schema,
    writeMode: options.writeMode,
    appId: options.appId,
    workDir,
    ...(options.compression ? { compression: options.compression } : {}),
    ...(options.targetFileBytes !== undefined ? { targetFileBytes: options.targetFileBytes } : {}),
    ...(options.rowGroupBytes !== undefined ? { rowGroupBytes: options.rowGroupBytes } : {}),
    ...(options.flushRows !== undefined ? { flushRows: options.flushRows } : {}),
    ...(options.memoryLimit !== undefined ? { memoryLimit: options.memoryLimit } : {}),
    ...(options.isDelete ? { isDelete: options.isDelete } : {}),
  };
  return LakeWriter.open(writerOptions);
}
