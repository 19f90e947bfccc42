import type { ConnectorManifest, FieldType } from '@connector-factory/ir';
import { FactoryError } from '../../errors.js';
import { openIntrospector } from '../schema/extract-schema.js';
import type { IntrospectedField, SchemaIntrospector } from '../schema/introspector.js';

/**
 * Whether every value of a source column the Schema agent types `actual` fits a lake column the
 * manifest declares `declared` (what the lake writer's conform accepts for all of them): the same type;
 * anything as json (every value serialises); anything but json as string (numbers, booleans, dates and
 * timestamps have a text; an array or object has none); a date as a datetime (midnight UTC). Number
 * widths are not the manifest's to say: a number column takes its lake type from the source (int4 →
 * int64, numeric(p,s) → decimal(p,s)). Text is only text: nothing promises it parses as a number, a
 * date or a boolean.
 */
export function typeFits(declared: FieldType, actual: FieldType): boolean {
  if (declared === actual || declared === 'json') return true;
  if (declared === 'string') return actual !== 'json';
  return declared === 'datetime' && actual === 'date';
}

/** One declared field the live column cannot feed. */
export interface TypeMismatch {
  readonly entity: string;
  readonly field: string;
  readonly declared: FieldType;
  /** The Schema agent's type of the live column; undefined when the source has no such column. */
  readonly actual?: FieldType;
  readonly sourceType?: string;
}

/** `orders.tags: the source column is text[] (array), the manifest declares string`. */
export function describeMismatch(mismatch: TypeMismatch): string {
  const where = `${mismatch.entity}.${mismatch.field}`;
  if (mismatch.actual === undefined) return `${where}: the source has no such column`;
  const kind = mismatch.sourceType?.endsWith('[]') ? 'array' : mismatch.actual;
  return `${where}: the source column is ${mismatch.sourceType ?? mismatch.actual} (${kind}), the manifest declares ${mismatch.declared}`;
}

/** The live columns of an entity; `schema.table` names are read from that schema when the default has no such table. */
async function liveFields(
  manifest: ConnectorManifest,
  introspector: SchemaIntrospector,
  entity: string,
  env: NodeJS.ProcessEnv,
): Promise<readonly IntrospectedField[]> {
  try {
    return (await introspector.describe(entity)).fields;
  } catch (error) {
    const dot = entity.indexOf('.');
    const { source } = manifest;
    if (!(error instanceof FactoryError) || error.code !== 'not_found' || dot <= 0 || source.type !== 'jdbc')
      throw error;
    const qualified = await openIntrospector(
      { type: 'jdbc', provider: source.provider as 'postgres' | 'mysql', connectionString: source.connectionString },
      { env, sampleRows: 0, schema: entity.slice(0, dot) },
    );
    try {
      return (await qualified.describe(entity.slice(dot + 1))).fields;
    } finally {
      await qualified.close();
    }
  }
}

/**
 * The declared fields of a database manifest that the live catalog cannot feed, read through the
 * Schema agent's introspector (the same type mapping the manifest was written with). Entities read by
 * a custom `query`, and PII fields (the lake gets their masked, hashed or encrypted text), are not
 * compared. Sources other than PostgreSQL and MySQL have no catalog to compare: none.
 */
export async function sourceTypeMismatches(
  manifest: ConnectorManifest,
  env: NodeJS.ProcessEnv,
): Promise<TypeMismatch[]> {
  const { source } = manifest;
  if (source.type !== 'jdbc') return [];
  const { provider, connectionString } = source;
  if ((provider !== 'postgres' && provider !== 'mysql') || !connectionString) return [];
  const introspector = await openIntrospector({ type: 'jdbc', provider, connectionString }, { env, sampleRows: 0 });
  const mismatches: TypeMismatch[] = [];
  try {
    for (const entity of manifest.schema.entities) {
      if (entity.query !== undefined) continue;
      const live = new Map((await liveFields(manifest, introspector, entity.name, env)).map((f) => [f.name, f]));
      for (const field of entity.fields) {
        if (field.pii === true) continue;
        const column = live.get(field.name);
        if (column === undefined) {
          mismatches.push({ entity: entity.name, field: field.name, declared: field.type });
        } else if (!typeFits(field.type, column.type)) {
          mismatches.push({
            entity: entity.name,
            field: field.name,
            declared: field.type,
            actual: column.type,
            sourceType: column.sourceType,
          });
        }
      }
    }
  } finally {
    await introspector.close();
  }
  return mismatches;
}

/**
 * Refuses a manifest whose declared types the live source cannot feed, before anything is built: a
 * column that cannot hold its values would send rows to the quarantine on every run. One line naming
 * every such column (FactoryError invalid_input).
 */
export async function checkSourceTypes(manifest: ConnectorManifest, env: NodeJS.ProcessEnv): Promise<void> {
  const mismatches = await sourceTypeMismatches(manifest, env);
  if (mismatches.length === 0) return;
  throw new FactoryError(
    'invalid_input',
    `${manifest.id}: the manifest's field types do not match the source (${mismatches.map(describeMismatch).join('; ')}): ` +
      'declare each field as the source types it (`connector-factory schema` writes them), json for arrays and objects',
  );
}
