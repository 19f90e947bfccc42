import type { FieldType } from '@connector-factory/ir';
import type { NumberHint } from './schema-definition.js';

/** A field as a source describes it, already mapped to the IR. */
export interface IntrospectedField {
  readonly name: string;
  readonly type: FieldType;
  readonly nullable: boolean;
  /** For `number` fields: the lake's physical type. */
  readonly numberHint?: NumberHint;
  /** The source's own type, e.g. `numeric(12,2)`, `timestamp with time zone`, `varchar(40)`. */
  readonly sourceType: string;
}

/** A set of fields whose values are unique together (a unique constraint or unique index). */
export interface UniqueKey {
  readonly name: string;
  readonly columns: readonly string[];
}

/** A foreign key: `columns` of this entity reference `referencedColumns` of `referencedEntity`, pairwise. */
export interface ForeignKey {
  readonly name: string;
  readonly columns: readonly string[];
  /** The referenced entity's name as `listEntities` spells it; qualified (`schema.table`) when it lies elsewhere. */
  readonly referencedEntity: string;
  readonly referencedColumns: readonly string[];
}

/** A bounded sample of an entity's rows, keyed by field name (only the fields worth scanning for PII). */
export type SampleRow = Readonly<Record<string, unknown>>;

export interface EntityDescription {
  readonly name: string;
  readonly fields: readonly IntrospectedField[];
  /** Empty when the entity has none (a view, a table without a key, an API resource without an id). */
  readonly primaryKey: readonly string[];
  readonly uniqueKeys: readonly UniqueKey[];
  readonly foreignKeys: readonly ForeignKey[];
  readonly sample: readonly SampleRow[];
  /** Anything the introspector wants a reviewer to know (mapped types, skipped sampling, …). */
  readonly notes?: readonly string[];
  /** Whether this entity's changes can be captured from the source's log, and why (see `ChangeCapture`). */
  readonly changeCapture?: ChangeCapture;
}

/**
 * What the source can tell about capturing one entity's changes before anything is generated: the
 * relation's kind, its replica identity and key, and what the user may do with it. `supported: false`
 * says why CDC cannot work (and what to run to make it work); `supported: true` may say how it will work.
 * Server-wide conditions (wal_level, the REPLICATION attribute, free slots) are `IntrospectionCapabilities`.
 */
export interface ChangeCapture {
  readonly supported: boolean;
  readonly reason?: string;
}

export interface IntrospectionCapabilities {
  /** Whether change data capture from the source's log is available to the runtime (with these credentials). */
  readonly logicalReplication: boolean;
  /** Why not (each failed condition), or what was checked. */
  readonly reason?: string;
}

/**
 * The one thing the Schema Agent needs from a source. One implementation per source kind, each in its
 * own folder: `postgres/` and `mysql/` (jdbc) today; `rest/`, `graphql/`, `file/` and `stream/` later
 * (an OpenAPI document, an introspection query, a file's header and rows, a topic's schema registry).
 */
export interface SchemaIntrospector {
  /** e.g. `postgres`, `mysql`. */
  readonly provider: string;
  /** Where it reads, safe to print (credentials redacted), e.g. `postgresql://cf:***@host/db schema public`. */
  readonly location: string;
  /**
   * The entities there are, in a stable order; with `filter`, exactly those (in the filter's order), and
   * a `not_found` FactoryError naming the missing ones.
   */
  listEntities(filter?: readonly string[]): Promise<string[]>;
  describe(entity: string): Promise<EntityDescription>;
  capabilities(): Promise<IntrospectionCapabilities>;
  close(): Promise<void>;
}

/** Options every introspector understands. */
export interface IntrospectorOptions {
  /** Rows sampled per entity for PII detection (default 200; 0 disables sampling). */
  readonly sampleRows?: number;
}

export const DEFAULT_SAMPLE_ROWS = 200;
