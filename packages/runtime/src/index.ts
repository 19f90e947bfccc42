export { RuntimeError, type RuntimeErrorCode, type SourceErrorData } from './errors.js';
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
export type { Row, RejectedRow } from './records/record.js';
export type { FileStats, TableChange, TableFile, TableLog, TableSnapshot } from './lake/table-log.js';
export { PlainLog } from './lake/plain/plain-log.js';
export {
  LakeWriter,
  QuarantineLimitError,
  type BatchResult,
  type LakeWriterOptions,
  type Pages,
} from './lake/lake-writer.js';
export { openLakeWriter, type OpenLakeWriterOptions } from './lake/open-lake-writer.js';
export { openStore } from './stores/open-store.js';
export { S3Store, type S3StoreOptions } from './stores/s3/s3-store.js';
export { DeltaLog } from './lake/formats/delta/delta-log.js';
export { DeltaTableLog, deltaFields, deltaType } from './lake/formats/delta/delta-table-log.js';
export { avroSchemaFor } from './lake/formats/avro/avro-encoder.js';
export {
  chunkRows,
  type ColumnarChunk,
  type CsvChunk,
  type EntityRef,
  type FullRefreshMode,
  type IncrementalMode,
  type LogMode,
  type ReadMode,
  type RowsChunk,
  type Source,
  type SourceChunk,
  type SourceColumn,
  type SourceState,
  type SqlConnectionOptions,
} from './sources/source.js';
export { defined, type SourceContext, type SourceKind } from './sources/kind.js';
export {
  parseSourceOptions,
  SOURCE_KINDS,
  sourceKindOf,
  sourceProviders,
  type SourceKindName,
} from './sources/registry.js';
export { mysqlKind, mysqlOptions, type MysqlOptions } from './sources/mysql/index.js';
export { postgresKind, postgresOptions, type PostgresOptions } from './sources/postgres/index.js';
export { expandEnv, redactUrl } from './sources/env.js';
export { PostgresSource } from './sources/postgres/postgres-source.js';
export { classifyPostgresError } from './sources/postgres/postgres-errors.js';
export { classifyMysqlError } from './sources/mysql/mysql-errors.js';
export type { DriverErrorClass } from './sources/driver-errors.js';
export { MysqlSource } from './sources/mysql/mysql-source.js';
export { runSync, type BatchReport, type RowTransformer, type RunOptions, type RunSummary } from './run/run-loop.js';
export { FileCheckpointStore, type Checkpoint, type CheckpointStore } from './run/checkpoint-store.js';
export { createTransformer, sourceFieldsFor, type Transformer } from './transform/transformer.js';
export { decryptColumnValues, decryptRows, decryptionKeyFromEnv, encryptedColumnsFor } from './transform/decrypt.js';
export {
  CONNECTOR_METRIC_NAMES,
  ConnectorMetricsRecorder,
  parseConnectorMetrics,
  parsePrometheusText,
  type ConnectorMetrics,
  type MetricSample,
} from './observe/connector-metrics.js';
export { startHealthServer, type HealthReport } from './observe/health-server.js';
export { createLogger, secretValuesFromEnv, type Logger } from './observe/logger.js';
export { createSource, referencedEnvVars } from './connector/create-source.js';
export { entityOf, entityRefOf, readModeOf, replicationName, replicationNamesOf } from './connector/read-mode.js';
export { runConnector, tablePathOf, type ConnectorOptions } from './connector/run-connector.js';
export {
  resolveConnectorConfig,
  type ConnectorConfig,
  type ConnectorConfigOverrides,
  type ConnectorLimits,
} from './connector/connector-config.js';
export { CONNECTOR_EXIT, connectorMain, exitStatusOf, loadManifest } from './connector/connector-main.js';
export { PostgresCdcReader } from './sources/postgres/cdc/index.js';
export { dropReplication } from './sources/postgres/cdc/index.js';
export {
  enforceConnectorRetention,
  enforceRetention,
  retentionDateColumn,
  RETENTION_APP_ID,
  type ConnectorRetentionOptions,
  type RetentionFile,
  type RetentionOptions,
  type RetentionReport,
} from './lake/retention.js';
export * from './http/index.js';
export * from './auth/index.js';
export { sleep } from './sleep.js';
