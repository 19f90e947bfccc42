import type { ConnectorManifest, FieldType } from '@connector-factory/ir';
import { DERIVED_PARTITION_COLUMNS } from '@connector-factory/ir';
import type { Column, PhysicalType } from '../columnar/columnar.js';
import { RuntimeError } from '../errors.js';

export type { Column, PhysicalType } from '../columnar/columnar.js';

/** What a lake writer needs to know about its table. */
export interface TableSchema {
  readonly columns: readonly Column[];
  /** Partition columns, in path order; may include the derived `dt`. */
  readonly partitionBy: readonly string[];
  /** Keys a merge matches rows on. */
  readonly mergeKeys: readonly string[];
  /** The incremental cursor; `dt` is derived from it when it is a date or datetime column. */
  readonly incrementalKey?: string;
}

/** Precision hints for `number` fields, by field name: `int64`, `float64` or `decimal(p,s)`. */
export type NumberHints = Readonly<Record<string, string>>;

const DEFAULT_PHYSICAL: Record<FieldType, PhysicalType> = {
  string: { kind: 'string' },
  number: { kind: 'float64' },
  boolean: { kind: 'boolean' },
  date: { kind: 'date' },
  datetime: { kind: 'timestamp' },
  json: { kind: 'json' },
};

/** Parses a number hint; undefined for an unknown hint. */
export function parseNumberHint(hint: string): PhysicalType | undefined {
  if (hint === 'int64') return { kind: 'int64' };
  if (hint === 'float64') return { kind: 'float64' };
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(hint);
  if (!decimal) return undefined;
  const precision = Number(decimal[1]);
  const scale = Number(decimal[2]);
  if (precision < 1 || precision > 38 || scale > precision) return undefined;
  return { kind: 'decimal', precision, scale };
}

/** A column from an IR field and an optional number hint. */
export function columnOf(field: { name: string; type: FieldType; nullable: boolean }, hint?: string): Column {
  let physical = DEFAULT_PHYSICAL[field.type];
  if (field.type === 'number' && hint !== undefined) {
    const parsed = parseNumberHint(hint);
    if (!parsed)
      throw new RuntimeError(
        'config',
        `field "${field.name}": unknown number type "${hint}" (int64, float64 or decimal(p,s) with p ≤ 38)`,
      );
    physical = parsed;
  }
  return { name: field.name, type: field.type, nullable: field.nullable, physical };
}

/** The table schema of one entity of a manifest. */
export function tableSchemaFor(
  manifest: ConnectorManifest,
  entityName: string,
  options: { numberHints?: NumberHints; extraColumns?: readonly Column[] } = {},
): TableSchema {
  const entity = manifest.schema.entities.find((e) => e.name === entityName);
  if (!entity) throw new RuntimeError('config', `manifest ${manifest.id} has no entity "${entityName}"`);
  const columns = [
    ...entity.fields.map((f) => columnOf(f, options.numberHints?.[f.name])),
    ...(options.extraColumns ?? []),
  ];
  const schema: TableSchema = {
    columns,
    partitionBy: manifest.destination.partitionBy,
    mergeKeys: manifest.destination.mergeKeys ?? entity.primaryKey ?? [],
    ...(manifest.schema.incrementalKey !== undefined ? { incrementalKey: manifest.schema.incrementalKey } : {}),
  };
  checkTableSchema(schema);
  return schema;
}

/** Whether `name` is the runtime-derived `dt` partition rather than a column of the table. */
export function isDerivedPartition(schema: TableSchema, name: string): boolean {
  return (
    (DERIVED_PARTITION_COLUMNS as readonly string[]).includes(name) && !schema.columns.some((c) => c.name === name)
  );
}

/** Rejects a schema the writers cannot act on (the manifest validator catches these for manifests). */
export function checkTableSchema(schema: TableSchema): void {
  const names = new Set<string>();
  for (const column of schema.columns) {
    if (names.has(column.name)) throw new RuntimeError('config', `column "${column.name}" appears twice`);
    if (column.name.startsWith('__cf_'))
      throw new RuntimeError('config', `column "${column.name}": the __cf_ prefix is reserved`);
    names.add(column.name);
  }
  for (const column of schema.partitionBy) {
    if (!names.has(column) && !isDerivedPartition(schema, column)) {
      throw new RuntimeError('config', `partition column "${column}" is not a column`);
    }
  }
  for (const key of schema.mergeKeys) {
    if (!names.has(key)) throw new RuntimeError('config', `merge key "${key}" is not a column`);
  }
}
