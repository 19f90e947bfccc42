import type { ConnectorManifest, Entity, Field, FieldType } from '@connector-factory/ir';
import type { DriftClassification } from '../../records/index.js';
import type { SchemaDefinition } from '../schema/schema-definition.js';

/** One difference between what a connector was built for and what its source is now. */
export interface DriftChange {
  readonly entity: string;
  readonly field: string | null;
  readonly change:
    | 'entity_removed'
    | 'field_removed'
    | 'field_added'
    | 'type_changed'
    | 'now_nullable'
    | 'now_required'
    | 'primary_key_changed'
    | 'cursor_lost';
  readonly from: unknown;
  readonly to: unknown;
  readonly breaking: boolean;
  readonly why: string;
}

/** Can a lake column of type `lake` hold the source's values of type `source`? */
function holds(lake: FieldType, source: FieldType): boolean {
  return lake === source || lake === 'string' || lake === 'json' || (lake === 'datetime' && source === 'date');
}

function entityChanges(entity: Entity, live: Entity | undefined, cursor: string | undefined): DriftChange[] {
  if (!live) {
    return [
      {
        entity: entity.name,
        field: null,
        change: 'entity_removed',
        from: entity.name,
        to: null,
        breaking: true,
        why: 'the table is gone from the source',
      },
    ];
  }
  const changes: DriftChange[] = [];
  const liveFields = new Map(live.fields.map((field) => [field.name, field]));
  const known = new Set(entity.fields.map((field) => field.name));
  for (const field of entity.fields) {
    const now = liveFields.get(field.name);
    if (!now) {
      changes.push({
        entity: entity.name,
        field: field.name,
        change: 'field_removed',
        from: field.type,
        to: null,
        breaking: true,
        why: 'the lake expects a column the source no longer has',
      });
      continue;
    }
    if (now.type !== field.type) {
      const breaking = !holds(field.type, now.type);
      changes.push({
        entity: entity.name,
        field: field.name,
        change: 'type_changed',
        from: field.type,
        to: now.type,
        breaking,
        why: breaking
          ? `a ${field.type} lake column cannot hold ${now.type} values`
          : `${now.type} values still fit the ${field.type} lake column`,
      });
    }
    if (now.nullable && !field.nullable) {
      changes.push({
        entity: entity.name,
        field: field.name,
        change: 'now_nullable',
        from: false,
        to: true,
        breaking: true,
        why: 'nulls would arrive in a column the lake declares required',
      });
    } else if (!now.nullable && field.nullable) {
      changes.push({
        entity: entity.name,
        field: field.name,
        change: 'now_required',
        from: true,
        to: false,
        breaking: false,
        why: 'a stricter source still fits the lake',
      });
    }
  }
  for (const field of live.fields) {
    if (known.has(field.name)) continue;
    changes.push({
      entity: entity.name,
      field: field.name,
      change: 'field_added',
      from: null,
      to: field.type,
      breaking: false,
      why: field.nullable
        ? 'a new nullable column: a new version can add it'
        : 'a new column: a new version can add it (older rows get null)',
    });
  }
  const key = entity.primaryKey ?? [];
  const liveKey = live.primaryKey ?? [];
  if (key.length > 0 && key.join(',') !== liveKey.join(',')) {
    changes.push({
      entity: entity.name,
      field: null,
      change: 'primary_key_changed',
      from: key,
      to: liveKey,
      breaking: true,
      why: liveKey.length === 0 ? 'the source lost the key the lake merges on' : 'the key the lake merges on changed',
    });
  }
  if (cursor !== undefined && !liveFields.has(cursor) && entity.fields.some((field) => field.name === cursor)) {
    changes.push({
      entity: entity.name,
      field: cursor,
      change: 'cursor_lost',
      from: cursor,
      to: null,
      breaking: true,
      why: 'the incremental cursor column is gone',
    });
  }
  return changes;
}

/**
 * Diffs a running connector's manifest against a fresh Schema agent run: a removed table or column, a
 * type the lake column cannot hold, a lost key or cursor, or nulls into a required column are breaking;
 * a new column, a widened type or a stricter column are not.
 */
export function classifyDrift(
  manifest: ConnectorManifest,
  live: SchemaDefinition,
): { classification: DriftClassification; changes: DriftChange[] } {
  const byName = new Map(live.entities.map((entity) => [entity.name, entity]));
  const cursor = manifest.schema.updateStrategy === 'incremental' ? manifest.schema.incrementalKey : undefined;
  const changes = manifest.schema.entities.flatMap((entity) => entityChanges(entity, byName.get(entity.name), cursor));
  const classification: DriftClassification =
    changes.length === 0 ? 'none' : changes.some((c) => c.breaking) ? 'breaking' : 'non_breaking';
  return { classification, changes };
}

/** The next minor version: 1.4.2 → 1.5.0. */
export function nextMinor(version: string): string {
  const [major, minor] = version.split('.').map((part) => Number.parseInt(part, 10));
  return `${major ?? 1}.${(minor ?? 0) + 1}.0`;
}

/**
 * The manifest a non-breaking drift proposes: the same connector with the new columns (as the Schema
 * agent sees them, PII flags included) and the changed types, as the next minor version.
 */
export function proposeManifest(
  manifest: ConnectorManifest,
  live: SchemaDefinition,
  changes: readonly DriftChange[],
): ConnectorManifest {
  const byName = new Map(live.entities.map((entity) => [entity.name, entity]));
  const entities = manifest.schema.entities.map((entity) => {
    const now = byName.get(entity.name);
    if (!now) return entity;
    const liveFields = new Map(now.fields.map((field) => [field.name, field]));
    const kept: Field[] = entity.fields.map((field) => {
      const typeChange = changes.find(
        (c) => c.entity === entity.name && c.field === field.name && c.change === 'type_changed',
      );
      return typeChange ? { ...field, type: liveFields.get(field.name)!.type } : field;
    });
    const added = changes
      .filter((c) => c.entity === entity.name && c.change === 'field_added' && c.field !== null)
      .map((c) => liveFields.get(c.field!)!)
      .map((field) => ({ ...field, nullable: true }));
    return { ...entity, fields: [...kept, ...added] };
  });
  return { ...manifest, version: nextMinor(manifest.version), schema: { ...manifest.schema, entities } };
}
