import { Schema, type Entity, type Field } from '@connector-factory/ir';
import { FactoryError } from '../../errors.js';
import { resolveConnection, type JdbcProvider } from './connection.js';
import { inferUpdateStrategy } from './infer-strategy.js';
import type { EntityDescription, IntrospectionCapabilities, SchemaIntrospector } from './introspector.js';
import { MysqlIntrospector } from './mysql/mysql-introspector.js';
import { detectPii } from './pii-detector.js';
import { PostgresIntrospector } from './postgres/postgres-introspector.js';
import { inferRelationships } from './relationships.js';
import type { NumberHint, PiiFinding, SchemaDefinition } from './schema-definition.js';

/** A source the Schema Agent can read: SQL databases today (REST, GraphQL, files and streams to come). */
export interface JdbcSchemaSource {
  readonly type: 'jdbc';
  readonly provider: JdbcProvider;
  /** An env-var reference such as `${PG_URL}`, expanded from the environment here; literal passwords are refused. */
  readonly connectionString: string;
}

export type SchemaSource = JdbcSchemaSource;

export interface ExtractSchemaOptions {
  /** Only these entities (tables), in this order; default all of the schema. */
  readonly entities?: readonly string[];
  /** Use change data capture where the source allows it. */
  readonly wantCdc?: boolean;
  /** Rows sampled per entity for PII detection (default 200; 0 disables value-based detection). */
  readonly sampleRows?: number;
  /** Where `${NAME}` references are looked up (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** PostgreSQL schema (default `public`) or MySQL database (default: the connection's). */
  readonly schema?: string;
  /** Share of samples that must look like PII (default 0.6). */
  readonly piiThreshold?: number;
}

/** Connects to `source` with credentials from the environment. The caller closes the introspector. */
export async function openIntrospector(
  source: SchemaSource,
  options: Pick<ExtractSchemaOptions, 'env' | 'sampleRows' | 'schema'> = {},
): Promise<SchemaIntrospector> {
  if ((source as { type: string }).type !== 'jdbc') {
    throw new FactoryError(
      'invalid_input',
      `the Schema Agent reads jdbc sources only so far, not ${String((source as { type: unknown }).type)}`,
    );
  }
  const provider: string = source.provider;
  if (provider !== 'postgres' && provider !== 'mysql') {
    throw new FactoryError('invalid_input', `unknown jdbc provider "${provider}"`, ['expected postgres or mysql']);
  }
  const { url } = resolveConnection(source.provider, source.connectionString, options.env ?? process.env);
  const settings = {
    ...(options.sampleRows !== undefined ? { sampleRows: options.sampleRows } : {}),
    ...(options.schema !== undefined ? { schema: options.schema } : {}),
  };
  return source.provider === 'postgres'
    ? PostgresIntrospector.connect(url, settings)
    : MysqlIntrospector.connect(url, settings);
}

/**
 * The Schema Agent: reads `source`'s catalog and a bounded sample of rows, and returns the IR schema
 * section with primary keys, relationships, PII flags, number hints and the update strategy.
 * Credentials come only from environment variables and never appear in the result or in errors.
 */
export async function extractSchema(
  source: SchemaSource,
  options: ExtractSchemaOptions = {},
): Promise<SchemaDefinition> {
  const introspector = await openIntrospector(source, options);
  try {
    return await extractSchemaFrom(introspector, options);
  } finally {
    await introspector.close();
  }
}

/** The Schema Agent over any introspector (any source kind); does not close it. */
export async function extractSchemaFrom(
  introspector: SchemaIntrospector,
  options: Pick<ExtractSchemaOptions, 'entities' | 'wantCdc' | 'piiThreshold'> = {},
): Promise<SchemaDefinition> {
  const filter = options.entities !== undefined && options.entities.length > 0 ? options.entities : undefined;
  const names = await introspector.listEntities(filter);
  if (names.length === 0) {
    throw new FactoryError('not_found', `${introspector.provider}: no tables to read at ${introspector.location}`);
  }
  const notes: string[] = [
    `read ${names.length} ${names.length === 1 ? 'entity' : 'entities'} from ${introspector.location}`,
  ];
  const described: EntityDescription[] = [];
  for (const name of names) {
    const description = await introspector.describe(name);
    if (description.fields.length === 0) {
      notes.push(`${name}: no columns, left out (an IR entity needs at least one field)`);
      continue;
    }
    described.push(description);
    notes.push(...(description.notes ?? []));
  }
  if (described.length === 0) {
    throw new FactoryError('not_found', `${introspector.provider}: none of the tables has columns`);
  }

  const entities: Entity[] = [];
  const numberHints: Record<string, Record<string, NumberHint>> = {};
  const pii: PiiFinding[] = [];
  const threshold = options.piiThreshold !== undefined ? { threshold: options.piiThreshold } : {};
  for (const description of described) {
    const fields: Field[] = description.fields.map((field) => {
      const verdict = detectPii(
        {
          entity: description.name,
          field: field.name,
          type: field.type,
          values: description.sample.map((row) => row[field.name]),
        },
        threshold,
      );
      if (verdict.pii) pii.push({ entity: description.name, field: field.name, reasons: verdict.reasons });
      if (field.numberHint !== undefined) (numberHints[description.name] ??= {})[field.name] = field.numberHint;
      return { name: field.name, type: field.type, nullable: field.nullable, pii: verdict.pii };
    });
    entities.push({
      name: description.name,
      ...(description.primaryKey.length > 0 ? { primaryKey: [...description.primaryKey] } : {}),
      fields,
    });
    if (description.primaryKey.length === 0) notes.push(`${description.name}: no primary key`);
  }

  const { relationships, notes: relationshipNotes } = inferRelationships(described);
  notes.push(...relationshipNotes);

  let capabilities: IntrospectionCapabilities | undefined;
  if (options.wantCdc === true) {
    capabilities = await introspector.capabilities();
    notes.push(
      capabilities.logicalReplication
        ? `cdc available: ${capabilities.reason ?? 'logical replication'}`
        : `cdc not available: ${capabilities.reason ?? 'the source has no change log the runtime can read'}`,
    );
  }
  const strategy = inferUpdateStrategy(described, capabilities, options.wantCdc === true ? { wantCdc: true } : {});
  for (const own of strategy.strategies) notes.push(`${own.entity}: ${own.why}`);
  notes.push(...strategy.notes);

  const definition: SchemaDefinition = {
    entities,
    relationships,
    updateStrategy: strategy.updateStrategy,
    ...(strategy.incrementalKey !== undefined ? { incrementalKey: strategy.incrementalKey } : {}),
    ...(strategy.cdcConfig !== undefined ? { cdcConfig: strategy.cdcConfig } : {}),
    ...(strategy.mergeKeys !== undefined ? { mergeKeys: strategy.mergeKeys } : {}),
    numberHints,
    pii,
    strategies: strategy.strategies,
    notes,
  };
  // The IR schema section must validate as it is; anything else is a bug here.
  const check = Schema.safeParse({
    entities: definition.entities,
    relationships: definition.relationships,
    updateStrategy: definition.updateStrategy,
    ...(definition.incrementalKey !== undefined ? { incrementalKey: definition.incrementalKey } : {}),
    ...(definition.cdcConfig !== undefined ? { cdcConfig: definition.cdcConfig } : {}),
  });
  if (!check.success) {
    throw new FactoryError(
      'internal',
      'the extracted schema does not fit the Connector IR',
      check.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  return definition;
}
