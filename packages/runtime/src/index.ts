export { RuntimeError, type RuntimeErrorCode } from './errors.js';
export type { ObjectInfo, ObjectStore } from './stores/object-store.js';
export { FileStore } from './stores/file/file-store.js';
export {
  columnOf,
  parseNumberHint,
  tableSchemaFor,
  type Column,
  type NumberHints,
  type PhysicalType,
  type TableSchema,
} from './lake/table-schema.js';
export { conformValue, type CanonicalValue } from './lake/conform.js';
export { escapePartitionValue, partitionPath, unescapePartitionValue } from './lake/partitioning.js';
export type { Row, RejectedRow } from './lake/stage.js';
export type { FileStats, TableChange, TableFile, TableLog, TableSnapshot } from './lake/table-log.js';
export { PlainLog } from './lake/plain/plain-log.js';
export { LakeWriter, type BatchResult, type LakeWriterOptions, type Pages } from './lake/lake-writer.js';
export { openLakeWriter, type OpenLakeWriterOptions } from './lake/open-lake-writer.js';
export { openStore } from './stores/open-store.js';
export { S3Store, type S3StoreOptions } from './stores/s3/s3-store.js';
export { DeltaLog } from './lake/formats/delta/delta-log.js';
export { DeltaTableLog, deltaFields, deltaType } from './lake/formats/delta/delta-table-log.js';
export { avroSchemaFor } from './lake/formats/avro/avro-encoder.js';
