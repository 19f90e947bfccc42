import { Schema, unsupportedFieldNames, type Entity, type Field } from '@connector-factory/ir';
import { FactoryError } from '../../errors.js';
import { resolveConnection, type JdbcProvider } from './connection.js';
import { inferUpdateStrategy, type CombinedStrategy } from './infer-strategy.js';
import type { EntityDescription, IntrospectionCapabilities, SchemaIntrospector } from './introspector.js';
import { chooseUnnamedEntity, listed, resolveEntities, type ChooseEntity } from './match-entities.js';
import { MysqlIntrospector } from './mysql/mysql-introspector.js';
import { detectPii } from './pii-detector.js';
import { PostgresIntrospector } from './postgres/postgres-introspector.js';
import { inferRelationships } from './relationships.js';
import type { EntityStrategy, NumberHint, PiiFinding, SchemaDefinition } from './schema-definition.js';

/** A source the Schema Agent can read: SQL databases today (REST, GraphQL, files and streams to come). */
export interface JdbcSchemaSource {
  readonly type: 'jdbc';
  readonly provider: JdbcProvider;
  /** An env-var reference such as `${PG_URL}`, expanded from the environment here; literal passwords are refused. */
  readonly connectionString: string;
}

export type SchemaSource = JdbcSchemaSource;

export interface ExtractSchemaOptions {
  /**
   * Only these entities (tables), in this order. A schema-qualified name (`sales.member`) reads that
   * schema and keeps the qualified name. Default: see `unnamed`.
   */
  readonly entities?: readonly string[];
  /**
   * How `entities` are found: `exact` names (the default: a manifest's), or `typed` by a user, matched
   * against the live catalog (exact, then another case, singular/plural, a small typo; each non-exact
   * match explained in `notes`).
   */
  readonly match?: 'exact' | 'typed';
  /** Without `entities`: `all` tables of the schema (the default), or `one`: the only one, else `choose`, else an error listing them. */
  readonly unnamed?: 'all' | 'one';
  /** Asks which table is meant when a name matches nothing or several (on a terminal); without it those fail with the list. */
  readonly choose?: ChooseEntity;
  /** The cursor column the user named: every entity must have it (else an error naming their columns); incremental uses it. */
  readonly incrementalKey?: string;
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
  const { schema, entities } = qualifiedSchema(options.entities, options.schema);
  const introspector = await openIntrospector(source, { ...options, ...(schema !== undefined ? { schema } : {}) });
  try {
    return await extractSchemaFrom(introspector, {
      ...options,
      ...(entities !== undefined ? { entities } : {}),
      ...(schema !== undefined && options.schema === undefined ? { qualifier: schema } : {}),
    });
  } finally {
    await introspector.close();
  }
}

/**
 * `sales.member` and `sales.orders` read schema `sales` (MySQL: database) with the bare names. Names
 * from two schemas cannot share a connector; a name with a dot when `schema` is given stays as it is.
 */
function qualifiedSchema(
  entities: readonly string[] | undefined,
  schema: string | undefined,
): { schema?: string; entities?: readonly string[] } {
  if (entities === undefined || schema !== undefined) return entities !== undefined ? { entities } : {};
  const parts = entities.map((name) => {
    const dot = name.indexOf('.');
    return dot > 0 && dot < name.length - 1 ? { schema: name.slice(0, dot), name: name.slice(dot + 1) } : { name };
  });
  const schemas = [...new Set(parts.flatMap((p) => (p.schema !== undefined ? [p.schema] : [])))];
  if (schemas.length === 0) return { entities };
  if (schemas.length > 1) {
    throw new FactoryError(
      'invalid_input',
      `one connector reads one schema: ${entities.join(', ')} are in ${schemas.join(' and ')}; create a connector per schema`,
    );
  }
  return { schema: schemas[0]!, entities: parts.map((p) => p.name) };
}

/** The Schema Agent over any introspector (any source kind); does not close it. */
export async function extractSchemaFrom(
  introspector: SchemaIntrospector,
  options: Pick<
    ExtractSchemaOptions,
    'entities' | 'match' | 'wantCdc' | 'piiThreshold' | 'unnamed' | 'choose' | 'incrementalKey'
  > & {
    /** Entities come out as `<qualifier>.<name>` (the schema the user qualified them with). */
    readonly qualifier?: string;
  } = {},
): Promise<SchemaDefinition> {
  const filter = options.entities !== undefined && options.entities.length > 0 ? options.entities : undefined;
  const catalog = await introspector.listEntities();
  if (catalog.length === 0) {
    throw new FactoryError('not_found', `${introspector.provider}: no tables to read at ${introspector.location}`);
  }
  const where = {
    provider: introspector.provider,
    location: introspector.location,
    exact: options.match !== 'typed',
    ...(options.choose ? { choose: options.choose } : {}),
  };
  const selected =
    filter !== undefined
      ? await resolveEntities(filter, catalog, where)
      : options.unnamed === 'one'
        ? await chooseUnnamedEntity(catalog, where)
        : { names: catalog, notes: [] };
  const names = selected.names;
  const notes: string[] = [
    `read ${names.length} ${names.length === 1 ? 'entity' : 'entities'} from ${introspector.location}`,
    ...selected.notes,
  ];
  const qualify = (name: string) => (options.qualifier !== undefined ? `${options.qualifier}.${name}` : name);
  const described: EntityDescription[] = [];
  for (const name of names) {
    const bare = await introspector.describe(name);
    const description: EntityDescription =
      options.qualifier === undefined
        ? bare
        : {
            ...bare,
            name: qualify(bare.name),
            foreignKeys: bare.foreignKeys.map((fk) => ({
              ...fk,
              referencedEntity: fk.referencedEntity.includes('.') ? fk.referencedEntity : qualify(fk.referencedEntity),
            })),
          };
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
  const inferred = inferUpdateStrategy(described, capabilities, options.wantCdc === true ? { wantCdc: true } : {});
  const strategy =
    options.incrementalKey !== undefined
      ? withNamedCursor(inferred, described, options.incrementalKey, notes)
      : inferred;
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
  // Every name a database allows is carried, but for two kinds a lake table cannot hold: say so now,
  // before anything is generated, rather than have every run fail.
  const unsupported = entities.flatMap((entity) =>
    unsupportedFieldNames(
      entity.fields.map((field) => field.name),
      definition.updateStrategy === 'cdc',
    ).map((problem) => `${entity.name}: ${problem.reason}`),
  );
  if (unsupported.length > 0) {
    throw new FactoryError(
      'invalid_input',
      `${introspector.provider}: ${unsupported.length === 1 ? 'a column' : 'columns'} no lake table can hold: ${unsupported.join('; ')}`,
    );
  }
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

/**
 * The cursor column the user named, checked against every entity's columns (exact, else the one name
 * in another case): unknown → `invalid_input` naming the table's columns. Incremental then uses it,
 * whatever the inferred cursor was; cdc needs none and keeps the log position.
 */
function withNamedCursor(
  inferred: CombinedStrategy,
  described: readonly EntityDescription[],
  named: string,
  notes: string[],
): CombinedStrategy {
  let column = named;
  for (const description of described) {
    const names = description.fields.map((field) => field.name);
    if (names.includes(column)) continue;
    const other = names.filter((name) => name.toLowerCase() === named.toLowerCase());
    if (other.length === 1 && described.length === 1) {
      notes.push(`cursor "${named}" is ${other[0]!} (the same name in another case)`);
      column = other[0]!;
      continue;
    }
    throw new FactoryError(
      'invalid_input',
      `no column "${named}" in table ${description.name} for the cursor; its columns: ${listed(names, 60)}`,
    );
  }
  if (inferred.updateStrategy === 'cdc') {
    notes.push(`cursor ${column} not used: cdc reads the change log, not a cursor column`);
    return inferred;
  }
  const field = described[0]!.fields.find((f) => f.name === column)!;
  const kind =
    field.type === 'datetime' || field.type === 'number'
      ? ''
      : ` (a ${field.sourceType} column: its values must grow with every change)`;
  const strategies: EntityStrategy[] = inferred.strategies.map((own) => ({
    ...own,
    updateStrategy: 'incremental',
    incrementalKey: column,
    why: `incremental on ${column}, the cursor named in the description${kind}${own.incrementalKey !== undefined && own.incrementalKey !== column ? ` (instead of ${own.incrementalKey})` : ''}`,
  }));
  return {
    updateStrategy: 'incremental',
    incrementalKey: column,
    ...(inferred.mergeKeys !== undefined ? { mergeKeys: inferred.mergeKeys } : {}),
    strategies,
    notes: inferred.notes.filter((note) => !/^updateStrategy /.test(note)),
  };
}
