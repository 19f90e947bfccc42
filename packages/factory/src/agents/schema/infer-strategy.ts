import type { CdcConfig, UpdateStrategy } from '@connector-factory/ir';
import type { ChangeCapture, IntrospectedField, IntrospectionCapabilities } from './introspector.js';
import type { EntityStrategy } from './schema-definition.js';

/**
 * How to keep the lake up to date, in order of preference:
 *
 * 1. cdc — when asked for (`wantCdc`), the source can stream its log (`capabilities.logicalReplication`),
 *    the entity's own checks pass (`changeCapture`: a table or partitioned table, a replica identity that
 *    logs a key, a user who may publish it) and it has a primary key (updates and deletes are merged by
 *    key). Each refusal says why and what to run. The cursor is the log position:
 *    `{ cursorField: 'lsn', cursorType: 'log_position' }`.
 * 2. incremental — on the best cursor column: a datetime whose name says "last changed" (updated_at,
 *    modified_at, last_modified, updatedAt, SystemModstamp, …), a NOT NULL one before a nullable one
 *    (rows with a NULL cursor are only ever read by the first full load), then by the order of
 *    `CURSOR_NAMES`. created_at is no cursor: it misses updates.
 * 3. full_refresh — otherwise.
 *
 * mergeKeys are the primary key. The IR has one strategy for all entities of a connector, so
 * `inferUpdateStrategy` picks the one every entity supports: cdc if all can, else incremental if all
 * have a cursor of the same name (the IR's one incrementalKey), else full_refresh; its `strategies`
 * keep each entity's own choice.
 */

/** Cursor names in order of preference, compared without case, `_` or `-`. */
export const CURSOR_NAMES = [
  'updated_at',
  'updatedat',
  'modified_at',
  'last_modified',
  'last_modified_at',
  'last_modified_date',
  'lastmodifieddate',
  'systemmodstamp',
  'last_updated',
  'last_updated_at',
  'last_update',
  'date_modified',
  'modified_date',
  'updated_date',
  'updated_on',
  'modified_on',
  'update_time',
  'updated_time',
  'modify_time',
  'changed_at',
  'last_changed',
  'modified',
  'updated',
  'mtime',
] as const;

export const CDC_CONFIG: CdcConfig = { cursorField: 'lsn', cursorType: 'log_position' };

const compact = (name: string) => name.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
const CURSOR_RANK = new Map<string, number>(CURSOR_NAMES.map((name, i) => [compact(name), i]));

/** The best incremental cursor among `fields`, if any: a datetime named like a last-change time. */
export function bestCursor(fields: readonly IntrospectedField[]): IntrospectedField | undefined {
  const rank = (field: IntrospectedField) => {
    const exact = CURSOR_RANK.get(compact(field.name));
    if (exact !== undefined) return exact;
    // Other names that say "changed": row_updated_ts, record_modified_time, …
    return /(updated|modified|changed)/i.test(field.name) && !/(by|count|user)$/i.test(field.name)
      ? CURSOR_NAMES.length
      : undefined;
  };
  const candidates = fields
    .filter((field) => field.type === 'datetime')
    .map((field) => ({ field, rank: rank(field) }))
    .filter((candidate): candidate is { field: IntrospectedField; rank: number } => candidate.rank !== undefined)
    .sort((a, b) => Number(a.field.nullable) - Number(b.field.nullable) || a.rank - b.rank);
  return candidates[0]?.field;
}

export interface StrategyOptions {
  /** The user asked for change data capture. */
  readonly wantCdc?: boolean;
}

export interface StrategyEntity {
  readonly name: string;
  readonly fields: readonly IntrospectedField[];
  readonly primaryKey: readonly string[];
  readonly changeCapture?: ChangeCapture;
}

/** The strategy for one entity on its own, with one sentence saying why. */
export function inferEntityStrategy(
  entity: StrategyEntity,
  capabilities: IntrospectionCapabilities | undefined,
  options: StrategyOptions = {},
): EntityStrategy {
  const mergeKeys = entity.primaryKey.length > 0 ? { mergeKeys: [...entity.primaryKey] } : {};
  const cursor = bestCursor(entity.fields);
  const fallback = (prefix: string): EntityStrategy => {
    if (cursor !== undefined) {
      const nullable = cursor.nullable
        ? ` (nullable: rows whose ${cursor.name} is NULL are only read by the first full load)`
        : '';
      return {
        entity: entity.name,
        updateStrategy: 'incremental',
        incrementalKey: cursor.name,
        ...mergeKeys,
        why: `${prefix}incremental on ${cursor.name}, a ${cursor.sourceType} column that records the last change${nullable}`,
      };
    }
    return {
      entity: entity.name,
      updateStrategy: 'full_refresh',
      ...mergeKeys,
      why: `${prefix}full_refresh: no column records the last change (updated_at, modified_at, last_modified, …)`,
    };
  };
  if (options.wantCdc !== true) return fallback('');
  if (capabilities?.logicalReplication !== true) {
    const reason = capabilities?.reason ?? 'the source cannot stream its change log';
    return fallback(`cdc was asked for but is not available (${reason}); falling back to `);
  }
  const capture = entity.changeCapture;
  if (capture !== undefined && !capture.supported) {
    const reason = capture.reason ?? 'the source cannot capture its changes';
    return fallback(`cdc was asked for, but ${reason}; falling back to `);
  }
  if (entity.primaryKey.length === 0) {
    return fallback('cdc was asked for, but the entity has no primary key to merge changes on; falling back to ');
  }
  const how = capture?.reason !== undefined ? ` (${capture.reason})` : '';
  return {
    entity: entity.name,
    updateStrategy: 'cdc',
    ...mergeKeys,
    why: `cdc from the source's change log, merged on ${entity.primaryKey.join(', ')}${how}`,
  };
}

export interface CombinedStrategy {
  readonly updateStrategy: UpdateStrategy;
  readonly incrementalKey?: string;
  readonly cdcConfig?: CdcConfig;
  readonly mergeKeys?: string[];
  /** Each entity's own strategy. */
  readonly strategies: EntityStrategy[];
  readonly notes: string[];
}

/**
 * One strategy for all entities (the IR's schema-level updateStrategy/incrementalKey/cdcConfig): cdc if
 * every entity can use it; else incremental if every entity has a cursor and they share its name; else
 * full_refresh. mergeKeys when every entity has the same primary key.
 */
export function inferUpdateStrategy(
  entities: readonly StrategyEntity[],
  capabilities: IntrospectionCapabilities | undefined,
  options: StrategyOptions = {},
): CombinedStrategy {
  const strategies = entities.map((entity) => inferEntityStrategy(entity, capabilities, options));
  const notes: string[] = [];
  const single = entities.length === 1;
  const mergeKeys = (): { mergeKeys?: string[] } => {
    const keys = entities.map((entity) => entity.primaryKey.join('\u0000'));
    const first = entities[0]?.primaryKey ?? [];
    if (first.length > 0 && keys.every((key) => key === keys[0])) return { mergeKeys: [...first] };
    if (entities.length > 0) {
      notes.push(
        single
          ? 'no mergeKeys: the entity has no primary key (writeMode merge needs one; use append or overwrite)'
          : 'no common mergeKeys: the entities have different (or no) primary keys; give each its own connector to merge',
      );
    }
    return {};
  };

  if (entities.length > 0 && strategies.every((strategy) => strategy.updateStrategy === 'cdc')) {
    if (!single) notes.push('updateStrategy cdc: every entity can be read from the change log');
    return { updateStrategy: 'cdc', cdcConfig: { ...CDC_CONFIG }, ...mergeKeys(), strategies, notes };
  }
  const cdcEntities = strategies.filter((strategy) => strategy.updateStrategy === 'cdc');
  if (cdcEntities.length > 0) {
    notes.push(
      `cdc is available for ${cdcEntities.map((strategy) => strategy.entity).join(', ')} but not for every entity, ` +
        'so the connector uses the best strategy they all support',
    );
  }
  // Without cdc: what each entity supports on its own.
  const plain = entities.map((entity) => inferEntityStrategy(entity, capabilities, {}));
  const key = plain[0]?.incrementalKey;
  if (key !== undefined && plain.every((strategy) => strategy.incrementalKey === key)) {
    if (!single) notes.push(`updateStrategy incremental: every entity has the cursor ${key}`);
    return { updateStrategy: 'incremental', incrementalKey: key, ...mergeKeys(), strategies, notes };
  }
  if (!single && entities.length > 0) {
    const own = plain.map((strategy) =>
      strategy.updateStrategy === 'incremental'
        ? `${strategy.entity}: incremental on ${strategy.incrementalKey ?? '?'}`
        : `${strategy.entity}: ${strategy.updateStrategy}`,
    );
    notes.push(
      `updateStrategy full_refresh: the entities share no cursor (${own.join('; ')}); ` +
        "a connector per entity can use each one's own strategy (see strategies)",
    );
  }
  return { updateStrategy: 'full_refresh', ...mergeKeys(), strategies, notes };
}

/**
 * What a step report adds about change data capture once the schema is read: nothing unless it was asked
 * for; else each entity's reason, why it falls back or how it streams (a partitioned table through its
 * root), e.g. ` (silent_events: cdc was asked for, but … REPLICA IDENTITY NOTHING …; falling back to …)`.
 */
export function cdcVerdict(definition: { readonly strategies: readonly EntityStrategy[] }, asked: boolean): string {
  if (!asked || definition.strategies.length === 0) return '';
  return ` (${definition.strategies.map((own) => `${own.entity}: ${own.why}`).join('; ')})`;
}
