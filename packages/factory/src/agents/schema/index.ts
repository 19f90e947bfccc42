export type { EntityStrategy, NumberHint, PiiFinding, SchemaDefinition } from './schema-definition.js';
export {
  DEFAULT_SAMPLE_ROWS,
  type EntityDescription,
  type ForeignKey,
  type IntrospectedField,
  type IntrospectionCapabilities,
  type IntrospectorOptions,
  type SampleRow,
  type SchemaIntrospector,
  type UniqueKey,
} from './introspector.js';
export {
  assertNoLiteralPassword,
  expandEnvReference,
  inferProvider,
  providerFromUrl,
  redactConnectionUrl,
  resolveConnection,
  scrubSecrets,
  type JdbcProvider,
} from './connection.js';
export {
  PostgresIntrospector,
  mapPgType,
  quotePgIdent,
  type PostgresIntrospectorOptions,
} from './postgres/postgres-introspector.js';
export {
  MysqlIntrospector,
  jsonValidColumn,
  mapMysqlType,
  quoteMysqlIdent,
  type MysqlCatalogColumn,
  type MysqlIntrospectorOptions,
} from './mysql/mysql-introspector.js';
export {
  DEFAULT_PII_MIN_SAMPLES,
  DEFAULT_PII_THRESHOLD,
  detectPii,
  isPersonTable,
  looksLikeCardNumber,
  looksLikeEmail,
  looksLikeIban,
  looksLikeIpAddress,
  looksLikePersonName,
  looksLikePhone,
  looksLikeSsn,
  looksLikeStreetAddress,
  luhnValid,
  nameWords,
  piiByName,
  piiByValues,
  type PiiColumn,
  type PiiDetectorOptions,
  type PiiKind,
  type PiiVerdict,
} from './pii-detector.js';
export {
  CDC_CONFIG,
  CURSOR_NAMES,
  bestCursor,
  inferEntityStrategy,
  inferUpdateStrategy,
  type CombinedStrategy,
  type StrategyEntity,
  type StrategyOptions,
} from './infer-strategy.js';
export {
  MAX_JUNCTION_EXTRA_COLUMNS,
  inferRelationships,
  junctionKeys,
  type RelationshipResult,
} from './relationships.js';
export {
  extractSchema,
  extractSchemaFrom,
  openIntrospector,
  type ExtractSchemaOptions,
  type JdbcSchemaSource,
  type SchemaSource,
} from './extract-schema.js';
export {
  chooseUnnamedEntity,
  matchEntity,
  resolveEntities,
  type ChooseEntity,
  type EntityMatch,
  type EntityQuestion,
} from './match-entities.js';
