import type { CdcConfig, Entity, Relationship, UpdateStrategy } from '@connector-factory/ir';

/** The lake's physical type of a `number` field: what the runtime's `parseNumberHint` accepts. */
export type NumberHint = 'int64' | 'float64' | `decimal(${number},${number})`;

/** A field the PII detector flagged, and why (e.g. "name matches email", "87% of 200 samples look like emails"). */
export interface PiiFinding {
  readonly entity: string;
  readonly field: string;
  readonly reasons: string[];
}

/** How one entity would be read on its own (the IR has one strategy per connector; see `updateStrategy`). */
export interface EntityStrategy {
  readonly entity: string;
  readonly updateStrategy: UpdateStrategy;
  /** The cursor column for `incremental`. */
  readonly incrementalKey?: string;
  /** The entity's primary key, when it has one. */
  readonly mergeKeys?: string[];
  /** One sentence: why this strategy. */
  readonly why: string;
}

/**
 * What the Schema Agent returns: the IR's `schema` section (entities, relationships, updateStrategy,
 * incrementalKey, cdcConfig) plus what the later agents need and the IR does not carry.
 *
 * - `entities` carry `primaryKey` when the source has one; fields flagged as PII have `pii: true`.
 * - `relationships` follow one direction convention: `from` is the referenced ("one"/parent) side, `to`
 *   the side that holds the foreign key; `many_to_many` goes between the two tables a junction links.
 *   A composite foreign key becomes one relationship per column pair.
 * - `updateStrategy`, `incrementalKey`, `cdcConfig` and `mergeKeys` hold for every entity together (one
 *   connector reads them all); `strategies` says what each entity would get on its own.
 * - `numberHints[entity][field]` is the physical type of each `number` field.
 * - `notes` explain every choice a reviewer may want to question.
 */
export interface SchemaDefinition {
  entities: Entity[];
  relationships: Relationship[];
  updateStrategy: UpdateStrategy;
  incrementalKey?: string;
  cdcConfig?: CdcConfig;
  /** The destination's merge keys: the primary key shared by every entity. */
  mergeKeys?: string[];
  numberHints: Record<string, Record<string, NumberHint>>;
  pii: PiiFinding[];
  /** Extension: the strategy each entity would get on its own. */
  strategies: EntityStrategy[];
  notes: string[];
}
