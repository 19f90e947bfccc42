import type { Relationship } from '@connector-factory/ir';
import type { EntityDescription, ForeignKey } from './introspector.js';

/**
 * Relationships from foreign keys, in the IR's `{ from, to, type }` form. Direction convention: `from`
 * is the referenced side (the parent, the "one" of one_to_many), `to` the entity holding the foreign
 * key, so `customers.id → orders.customer_id one_to_many` reads "one customer has many orders".
 *
 * - one_to_one: the foreign key columns are exactly the referencing table's primary key or one of its
 *   unique keys (each parent row has at most one child row).
 * - one_to_many: any other foreign key.
 * - many_to_many: a junction table — exactly two foreign keys whose columns together are exactly its
 *   primary key (or a unique key, when the primary key is a lone surrogate id), with at most
 *   `MAX_JUNCTION_EXTRA_COLUMNS` other columns (created_at, a position, a role) — links the two tables it
 *   references: `from` the first referenced table, `to` the second (foreign keys in name order). The
 *   junction's own foreign keys are reported too, as one_to_many from each side to the junction.
 *
 * The IR relates single fields, so a composite foreign key becomes one relationship per column pair
 * (and a composite many_to_many names the first column of each side; a note has the full lists).
 * Foreign keys to tables that are not extracted are left out, with a note.
 */
export const MAX_JUNCTION_EXTRA_COLUMNS = 3;

export interface RelationshipResult {
  readonly relationships: Relationship[];
  readonly notes: string[];
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((column) => b.includes(column));

const pairs = (foreignKey: ForeignKey) =>
  foreignKey.columns.map((column, i) => ({ column, referenced: foreignKey.referencedColumns[i] ?? column }));

/** The two foreign keys that make `entity` a junction table, if it is one. */
export function junctionKeys(entity: EntityDescription): [ForeignKey, ForeignKey] | undefined {
  if (entity.foreignKeys.length !== 2) return undefined;
  const [first, second] = entity.foreignKeys as [ForeignKey, ForeignKey];
  const linked = [...first.columns, ...second.columns];
  if (new Set(linked).size !== linked.length) return undefined; // the two keys share a column
  const keyed =
    sameSet(entity.primaryKey, linked) ||
    (entity.primaryKey.length <= 1 && entity.uniqueKeys.some((unique) => sameSet(unique.columns, linked)));
  if (!keyed) return undefined;
  const others = entity.fields.filter(
    (field) => !linked.includes(field.name) && !entity.primaryKey.includes(field.name),
  );
  return others.length <= MAX_JUNCTION_EXTRA_COLUMNS ? [first, second] : undefined;
}

const describeKey = (entity: string, columns: readonly string[]) => `${entity}(${columns.join(', ')})`;

export function inferRelationships(entities: readonly EntityDescription[]): RelationshipResult {
  const names = new Set(entities.map((entity) => entity.name));
  const relationships: Relationship[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  const add = (relationship: Relationship) => {
    const key = JSON.stringify(relationship);
    if (seen.has(key)) return;
    seen.add(key);
    relationships.push(relationship);
  };

  for (const entity of entities) {
    for (const foreignKey of entity.foreignKeys) {
      const target = describeKey(foreignKey.referencedEntity, foreignKey.referencedColumns);
      if (!names.has(foreignKey.referencedEntity)) {
        notes.push(
          `${describeKey(entity.name, foreignKey.columns)} references ${target}, which is not extracted: relationship left out`,
        );
        continue;
      }
      const unique =
        sameSet(foreignKey.columns, entity.primaryKey) ||
        entity.uniqueKeys.some((key) => sameSet(key.columns, foreignKey.columns));
      const type = unique ? 'one_to_one' : 'one_to_many';
      for (const { column, referenced } of pairs(foreignKey)) {
        add({
          from: { entity: foreignKey.referencedEntity, field: referenced },
          to: { entity: entity.name, field: column },
          type,
        });
      }
      if (foreignKey.columns.length > 1) {
        notes.push(
          `composite foreign key ${describeKey(entity.name, foreignKey.columns)} → ${target} (${type}) is listed as ${foreignKey.columns.length} column pairs`,
        );
      }
    }
  }

  for (const entity of entities) {
    const junction = junctionKeys(entity);
    if (junction === undefined) continue;
    const [left, right] = [...junction].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) as [
      ForeignKey,
      ForeignKey,
    ];
    if (!names.has(left.referencedEntity) || !names.has(right.referencedEntity)) {
      notes.push(
        `${entity.name} links ${left.referencedEntity} and ${right.referencedEntity} (many_to_many), but not both are extracted: left out`,
      );
      continue;
    }
    add({
      from: { entity: left.referencedEntity, field: left.referencedColumns[0] ?? left.columns[0] ?? '' },
      to: { entity: right.referencedEntity, field: right.referencedColumns[0] ?? right.columns[0] ?? '' },
      type: 'many_to_many',
    });
    notes.push(
      `${left.referencedEntity} ↔ ${right.referencedEntity} many_to_many through junction table ${entity.name} ` +
        `(${describeKey(entity.name, left.columns)} → ${describeKey(left.referencedEntity, left.referencedColumns)}, ` +
        `${describeKey(entity.name, right.columns)} → ${describeKey(right.referencedEntity, right.referencedColumns)})`,
    );
  }
  return { relationships, notes };
}
