import { z } from 'zod';
import {
  AuthMethod,
  CdcCursorType,
  Classification,
  Compression,
  FieldType,
  LakeFormat,
  PiiHandling,
  RelationshipType,
  UpdateStrategy,
  WriteMode,
} from './enums.js';
import { CONNECTOR_ID, SEMVER } from './patterns.js';

/** An environment variable name, the only way a manifest may point at a credential. */
export const EnvVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name such as POSTGRES_PASSWORD')
  .describe('Name of an environment variable that holds the credential at run time.');

const nonEmpty = z.string().min(1);

export const AuthConfig = z
  .strictObject({
    tokenUrl: z.url().optional().describe('OAuth2 token endpoint.'),
    clientIdEnvVar: EnvVarName.optional(),
    clientSecretEnvVar: EnvVarName.optional(),
    scopes: z.array(nonEmpty).optional(),
    headerName: nonEmpty.optional().describe('Header that carries the API key, e.g. X-API-Key.'),
    apiKeyEnvVar: EnvVarName.optional(),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'an IAM role ARN')
      .optional(),
    tokenEnvVar: EnvVarName.optional().describe('Bearer auth: env var holding the token.'),
    usernameEnvVar: EnvVarName.optional().describe('Basic auth: env var holding the user name.'),
    passwordEnvVar: EnvVarName.optional().describe('Basic auth: env var holding the password.'),
  })
  .describe('Auth settings. Credentials appear only as env-var names (*EnvVar fields).');

export const Auth = z
  .strictObject({
    method: AuthMethod,
    config: AuthConfig,
  })
  .meta({ id: 'Auth' });

export const RateLimit = z
  .strictObject({
    requestsPerSecond: z.number().positive(),
    burstLimit: z.number().int().positive(),
    retryAfterHeader: nonEmpty.optional(),
  })
  .meta({ id: 'RateLimit' });

const provider = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case provider name such as postgres or salesforce');

/** What every source type has after its location: how to authenticate, and how fast it may be asked. */
const SourceAccess = {
  auth: Auth,
  rateLimit: RateLimit.optional(),
};

const baseUrl = z.string().min(1).describe('API base URL; may hold {placeholders}.');
const connectionString = z
  .string()
  .min(1)
  .describe('Database connection string: an env-var reference such as ${POSTGRES_CONNECTION_STRING}.');

/** A database read over its driver (PostgreSQL, MySQL): where it is comes from the connection string. */
export const JdbcSource = z.strictObject({
  type: z.literal('jdbc'),
  provider,
  connectionString,
  ...SourceAccess,
});

/** An HTTP API with JSON resources. */
export const RestApiSource = z.strictObject({ type: z.literal('rest_api'), provider, baseUrl, ...SourceAccess });

/** A GraphQL endpoint. */
export const GraphqlSource = z.strictObject({
  type: z.literal('graphql'),
  provider,
  baseUrl: baseUrl.describe('The GraphQL endpoint URL; may hold {placeholders}.'),
  ...SourceAccess,
});

/**
 * Files in a folder or an object store: the location is a connection string (file:///path, s3://bucket/prefix),
 * the object store's endpoint a base URL; a file source names at least one of them.
 */
export const FileSource = z.strictObject({
  type: z.literal('file'),
  provider,
  baseUrl: baseUrl.optional().describe('Object store endpoint, e.g. https://s3.{region}.amazonaws.com.'),
  connectionString: z
    .string()
    .min(1)
    .optional()
    .describe('Where the files are: file:///path, s3://bucket/prefix, or an env-var reference to one.'),
  ...SourceAccess,
});

/** A message broker consumed continuously (Kafka): the brokers are in the connection string. */
export const StreamSource = z.strictObject({
  type: z.literal('stream'),
  provider,
  connectionString: connectionString.describe(
    'Broker addresses, e.g. bootstrap.servers=${KAFKA_BROKERS}; env-var references keep hosts out of the manifest.',
  ),
  ...SourceAccess,
});

/** Anything else (a webhook receiver): a location only when it has one. */
export const CustomSource = z.strictObject({
  type: z.literal('custom'),
  provider,
  baseUrl: baseUrl.optional(),
  connectionString: connectionString.optional(),
  ...SourceAccess,
});

/** Where the data comes from: one shape per source type, told apart by `type`. */
export const Source = z.discriminatedUnion('type', [
  JdbcSource,
  RestApiSource,
  GraphqlSource,
  FileSource,
  StreamSource,
  CustomSource,
]);

/** Where a source is, whatever its type: the base URL and connection string it names (each when it has one). */
export function sourceLocation(source: z.infer<typeof Source>): {
  readonly baseUrl?: string;
  readonly connectionString?: string;
} {
  const baseUrl = 'baseUrl' in source ? source.baseUrl : undefined;
  const connectionString = 'connectionString' in source ? source.connectionString : undefined;
  return {
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    ...(connectionString !== undefined ? { connectionString } : {}),
  };
}

export const Field = z.strictObject({
  name: nonEmpty,
  type: FieldType,
  nullable: z.boolean(),
  pii: z.boolean().optional(),
});

export const Entity = z.strictObject({
  name: nonEmpty,
  endpoint: nonEmpty.optional(),
  query: nonEmpty.optional(),
  primaryKey: z
    .array(nonEmpty)
    .min(1)
    .optional()
    .describe('Extension to the spec: the fields that identify a record (from the source schema).'),
  fields: z.array(Field).min(1),
});

const FieldRef = z.strictObject({ entity: nonEmpty, field: nonEmpty });

export const Relationship = z.strictObject({
  from: FieldRef,
  to: FieldRef,
  type: RelationshipType,
});

export const CdcConfig = z.strictObject({
  cursorField: nonEmpty,
  cursorType: CdcCursorType,
});

export const Schema = z.strictObject({
  entities: z.array(Entity).min(1),
  relationships: z.array(Relationship).optional(),
  updateStrategy: UpdateStrategy,
  incrementalKey: nonEmpty.optional(),
  cdcConfig: CdcConfig.optional(),
});

export const Destination = z.strictObject({
  lakePath: nonEmpty.describe('s3://bucket/prefix/, file:///abs/path or a local folder.'),
  format: LakeFormat,
  compression: Compression.optional(),
  partitionBy: z.array(nonEmpty),
  writeMode: WriteMode,
  mergeKeys: z.array(nonEmpty).optional(),
});

export const CronSchedule = z.strictObject({
  type: z.literal('cron'),
  expression: nonEmpty.describe('Cron, 5 fields or 6 with seconds first: "0 */15 * * * *" (UTC).'),
});

export const IntervalSchedule = z.strictObject({
  type: z.literal('interval'),
  intervalSeconds: z.number().int().positive().describe('Seconds between the starts of two runs, e.g. 900.'),
});

export const EventSchedule = z.strictObject({
  type: z.literal('event'),
  eventSource: nonEmpty.describe('What triggers a run: a webhook path such as /webhooks/stripe, or a topic.'),
});

export const ContinuousSchedule = z.strictObject({ type: z.literal('continuous') });

/** When the connector runs: one shape per schedule type, told apart by `type`. */
export const ScheduleSpec = z.discriminatedUnion('type', [
  CronSchedule,
  IntervalSchedule,
  EventSchedule,
  ContinuousSchedule,
]);

const Percent = z.number().min(0).max(100);

export const Slo = z.strictObject({
  freshnessMinutes: z.number().positive(),
  availabilityPercent: Percent,
  errorRatePercent: Percent,
});

export const Governance = z.strictObject({
  owner: nonEmpty,
  classification: Classification,
  retentionDays: z.number().int().positive(),
  piiHandling: PiiHandling,
  contract: z.strictObject({
    version: nonEmpty,
    slo: Slo,
  }),
});

/** The share of a batch the quarantine may take before the batch fails, when a manifest sets none (1 %). */
export const DEFAULT_MAX_QUARANTINE_SHARE = 0.01;

export const Quality = z
  .strictObject({
    maxQuarantineShare: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'Extension to the spec: the largest share of a batch (0..1) that may go to the quarantine. A batch above it ' +
          'fails: nothing of it is committed, the checkpoint stays, the run fails and the Monitor alerts. Default 0.01 ' +
          '(1 %); 1 never fails.',
      ),
  })
  .describe('Extension to the spec: data quality limits a run enforces.');

/** The Connector IR: the contract every agent reads and enriches, carried by a connector as manifest.json. */
export const ConnectorManifest = z
  .strictObject({
    $schema: z.string().optional().describe('Editor hint: path or URL of this JSON Schema.'),
    id: z
      .string()
      .regex(CONNECTOR_ID, 'connector_<provider>_<entity>_v<major>')
      .describe('connector_<provider>_<entity>_v<major>'),
    name: nonEmpty,
    version: z.string().regex(SEMVER, 'a semantic version').describe('Semantic version, e.g. 1.0.0'),
    source: Source,
    schema: Schema,
    destination: Destination,
    schedule: ScheduleSpec,
    governance: Governance,
    quality: Quality.optional(),
  })
  .describe('Connector Factory manifest (Connector IR).');

export type EnvVarName = z.infer<typeof EnvVarName>;
export type AuthConfig = z.infer<typeof AuthConfig>;
export type Auth = z.infer<typeof Auth>;
export type RateLimit = z.infer<typeof RateLimit>;
export type Source = z.infer<typeof Source>;
export type JdbcSource = z.infer<typeof JdbcSource>;
export type RestApiSource = z.infer<typeof RestApiSource>;
export type GraphqlSource = z.infer<typeof GraphqlSource>;
export type FileSource = z.infer<typeof FileSource>;
export type StreamSource = z.infer<typeof StreamSource>;
export type CustomSource = z.infer<typeof CustomSource>;
export type Field = z.infer<typeof Field>;
export type Entity = z.infer<typeof Entity>;
export type Relationship = z.infer<typeof Relationship>;
export type CdcConfig = z.infer<typeof CdcConfig>;
export type Schema = z.infer<typeof Schema>;
export type Destination = z.infer<typeof Destination>;
export type ScheduleSpec = z.infer<typeof ScheduleSpec>;
export type CronSchedule = z.infer<typeof CronSchedule>;
export type IntervalSchedule = z.infer<typeof IntervalSchedule>;
export type EventSchedule = z.infer<typeof EventSchedule>;
export type ContinuousSchedule = z.infer<typeof ContinuousSchedule>;
export type Slo = z.infer<typeof Slo>;
export type Governance = z.infer<typeof Governance>;
export type Quality = z.infer<typeof Quality>;
export type ConnectorManifest = z.infer<typeof ConnectorManifest>;
