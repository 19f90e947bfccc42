import { z } from 'zod';

/** Every closed vocabulary of the Connector IR, exactly as the spec names it. */
export const SOURCE_TYPES = ['rest_api', 'graphql', 'jdbc', 'file', 'stream', 'custom'] as const;
export const AUTH_METHODS = ['oauth2', 'api_key', 'bearer', 'basic', 'iam', 'none'] as const;
export const FIELD_TYPES = ['string', 'number', 'boolean', 'date', 'datetime', 'json'] as const;
export const RELATIONSHIP_TYPES = ['one_to_one', 'one_to_many', 'many_to_many'] as const;
export const UPDATE_STRATEGIES = ['full_refresh', 'incremental', 'cdc'] as const;
export const CDC_CURSOR_TYPES = ['timestamp', 'sequence', 'log_position'] as const;
export const LAKE_FORMATS = ['parquet', 'json', 'avro', 'delta'] as const;
export const COMPRESSIONS = ['snappy', 'gzip', 'zstd'] as const;
export const WRITE_MODES = ['append', 'overwrite', 'merge'] as const;
export const SCHEDULE_TYPES = ['cron', 'interval', 'event', 'continuous'] as const;
export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export const PII_HANDLINGS = ['mask', 'hash', 'encrypt', 'exclude'] as const;

export const SourceType = z.enum(SOURCE_TYPES);
export const AuthMethod = z.enum(AUTH_METHODS);
export const FieldType = z.enum(FIELD_TYPES);
export const RelationshipType = z.enum(RELATIONSHIP_TYPES);
export const UpdateStrategy = z.enum(UPDATE_STRATEGIES);
export const CdcCursorType = z.enum(CDC_CURSOR_TYPES);
export const LakeFormat = z.enum(LAKE_FORMATS);
export const Compression = z.enum(COMPRESSIONS);
export const WriteMode = z.enum(WRITE_MODES);
export const ScheduleType = z.enum(SCHEDULE_TYPES);
export const Classification = z.enum(CLASSIFICATIONS);
export const PiiHandling = z.enum(PII_HANDLINGS);

export type SourceType = z.infer<typeof SourceType>;
export type AuthMethod = z.infer<typeof AuthMethod>;
export type FieldType = z.infer<typeof FieldType>;
export type RelationshipType = z.infer<typeof RelationshipType>;
export type UpdateStrategy = z.infer<typeof UpdateStrategy>;
export type CdcCursorType = z.infer<typeof CdcCursorType>;
export type LakeFormat = z.infer<typeof LakeFormat>;
export type Compression = z.infer<typeof Compression>;
export type WriteMode = z.infer<typeof WriteMode>;
export type ScheduleType = z.infer<typeof ScheduleType>;
export type Classification = z.infer<typeof Classification>;
export type PiiHandling = z.infer<typeof PiiHandling>;

/**
 * Columns the runtime derives itself, so `partitionBy` may name them without a matching field.
 * `dt` is the UTC date (YYYY-MM-DD) of the incremental key when there is one, else of the extraction time.
 */
export const DERIVED_PARTITION_COLUMNS = ['dt'] as const;

/** Compression codecs each lake format can actually carry (avro has no gzip codec; json has no snappy framing). */
export const FORMAT_COMPRESSIONS: Readonly<Record<LakeFormat, readonly Compression[]>> = {
  parquet: ['snappy', 'gzip', 'zstd'],
  delta: ['snappy', 'gzip', 'zstd'],
  json: ['gzip', 'zstd'],
  avro: ['snappy', 'zstd'],
};
