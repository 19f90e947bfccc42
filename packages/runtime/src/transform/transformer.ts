import type { ConnectorManifest, Entity, FieldType, PiiHandling } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import { newRecord } from '../lake/record.js';
import type { Row } from '../lake/stage.js';
import { checkTableSchema, columnOf, type Column, type TableSchema } from '../lake/table-schema.js';
import type { ColumnarPage } from '../lake/columnar-page.js';
import { csvCompatible, type CsvPage } from '../lake/csv-page.js';
import type { ColumnarRows, CsvRows, SourceColumn } from '../sources/source.js';
import { encryptionKeyFromEnv, hashKeyFromEnv, piiFunction, type PiiFunction, type PiiKeys } from './pii.js';

/** When the batch was extracted (datetime). */
export const EXTRACTED_AT = '_extracted_at';
/** The manifest's id (string). */
export const CONNECTOR_ID = '_connector_id';
/** The manifest's version (string). */
export const CONNECTOR_VERSION = '_connector_version';
/** CDC only: the change kind from the source, `r` (snapshot read), `c`, `u` or `d` (string). */
export const OP = '_op';

/** Columns the transformer adds to every lake table (`_op` only for updateStrategy cdc). */
export const METADATA_COLUMNS: readonly string[] = [EXTRACTED_AT, CONNECTOR_ID, CONNECTOR_VERSION, OP];

export interface TransformerOptions {
  /** The source's catalog columns: their number hints (int64, decimal(p,s), …) become physical types. */
  readonly sourceColumns?: readonly SourceColumn[];
  /** Where the PII keys come from (default process.env), unless `keys` gives them. */
  readonly env?: NodeJS.ProcessEnv;
  /** The PII keys, loaded already (a connector's resolved configuration): `env` is not read. */
  readonly keys?: PiiKeys;
  /** The clock for `apply` calls that pass no extraction time (default: the system clock). */
  readonly now?: () => Date;
}

/** What happens to one PII field. */
export interface PiiFieldHandling {
  readonly field: string;
  readonly handling: PiiHandling;
}

/** Turns source rows of one entity into lake rows. */
export interface Transformer {
  /**
   * The lake table's schema: the entity's fields in manifest order (excluded PII removed; masked,
   * hashed and encrypted PII typed `string`, whatever the field's type), then the metadata columns
   * `_extracted_at`, `_connector_id`, `_connector_version` and, for cdc, `_op`.
   */
  readonly schema: TableSchema;
  /** The fields to ask the source for: every field of the entity except excluded PII. */
  readonly sourceFields: readonly string[];
  /** The entity's PII fields and their handling (names only, no values): for logs and the CLI. */
  readonly pii: readonly PiiFieldHandling[];
  /**
   * New rows holding exactly the schema's columns: non-PII values as the source sent them (the lake
   * writer conforms them), PII handled, metadata set; `_op` is copied from the source row for cdc.
   * A field missing from a source row stays missing (the writer quarantines it if it is not
   * nullable). Never throws for any row value. The rows share one `_extracted_at` Date: treat it as
   * read-only. They have no Object.prototype (see `newRecord`): any field name, `__proto__` too, is
   * an own field.
   */
  apply(rows: readonly Row[], extractedAt?: Date): Row[];
  /**
   * Whether rows may skip `apply` and go to the writer in bulk (no field is masked, hashed or
   * encrypted, and the manifest types every field as the source's catalog does): `columnarPage` then
   * wraps a source's rows with the metadata columns as constants.
   */
  readonly passesBulk: boolean;
  /**
   * `passesBulk`, and every field of a kind DuckDB's CSV reader casts as the writer conforms (not json):
   * `csvPage` then does the same for CSV text.
   */
  readonly passesCsv: boolean;
  /** A CSV page of source rows (only when `passesCsv`); fields not in the schema are an error. */
  csvPage(csv: CsvRows, extractedAt: Date): CsvPage;
  /** A columnar page of source rows (only when `passesBulk`); fields not in the schema are an error. */
  columnarPage(columnar: ColumnarRows, extractedAt: Date): ColumnarPage;
}

function entityOf(manifest: ConnectorManifest, entityName: string): Entity {
  const entity = manifest.schema.entities.find((e) => e.name === entityName);
  if (!entity) throw new RuntimeError('config', `manifest ${manifest.id} has no entity "${entityName}"`);
  return entity;
}

/** The fields a source should read for an entity: all of them but PII under piiHandling exclude. */
export function sourceFieldsFor(manifest: ConnectorManifest, entityName: string): string[] {
  const exclude = manifest.governance.piiHandling === 'exclude';
  return entityOf(manifest, entityName)
    .fields.filter((f) => !(exclude && f.pii === true))
    .map((f) => f.name);
}

const WHY_KEY_BREAKS: Record<Exclude<PiiHandling, 'hash'>, string> = {
  mask: 'masks are not unique (different values mask alike), so a merge would overwrite unrelated rows',
  encrypt: 'encryption uses a random IV, so the same value encrypts differently every run and a merge never matches',
  exclude: 'an excluded field never reaches the lake, so a merge has nothing to match on',
};

const WHY_CURSOR_BREAKS: Record<Exclude<PiiHandling, 'hash'>, string> = {
  mask: 'masked cursor values lose their order and collide',
  encrypt: 'encrypted cursor values are random and unordered',
  exclude: 'an excluded field is neither read from the source nor written to the lake',
};

const WHY_PARTITION_BREAKS: Partial<Record<PiiHandling, string>> = {
  encrypt: 'every value would get its own partition (random IV) and ciphertext would appear in folder names',
  exclude: 'an excluded field is not written',
};

/**
 * Keys that must survive PII handling: merge keys (writeMode merge), the incremental cursor
 * (updateStrategy incremental) and partition columns. `hash` keeps them stable and is allowed; a
 * hashed incrementalKey is a string column in the lake, so the derived `dt` partition then falls
 * back to the extraction date.
 */
function checkKeys(manifest: ConnectorManifest, entity: Entity, piiNames: ReadonlySet<string>): void {
  const handling = manifest.governance.piiHandling;
  if (handling === 'hash' || piiNames.size === 0) return;
  const remedy = 'use governance.piiHandling "hash" (stable, so keys still match) or do not mark the field pii';
  const problems: string[] = [];
  if (manifest.destination.writeMode === 'merge') {
    for (const key of manifest.destination.mergeKeys ?? entity.primaryKey ?? []) {
      if (!piiNames.has(key)) continue;
      problems.push(`merge key "${key}" is marked pii with piiHandling ${handling}: ${WHY_KEY_BREAKS[handling]}`);
    }
  }
  const cursor = manifest.schema.incrementalKey;
  if (manifest.schema.updateStrategy === 'incremental' && cursor !== undefined && piiNames.has(cursor)) {
    problems.push(
      `incrementalKey "${cursor}" is marked pii with piiHandling ${handling}: ${WHY_CURSOR_BREAKS[handling]}`,
    );
  }
  const partitionReason = WHY_PARTITION_BREAKS[handling];
  for (const column of manifest.destination.partitionBy) {
    if (partitionReason !== undefined && piiNames.has(column)) {
      problems.push(`partition column "${column}" is marked pii with piiHandling ${handling}: ${partitionReason}`);
    }
  }
  if (problems.length > 0) {
    throw new RuntimeError('config', `entity "${entity.name}" of ${manifest.id}: ${problems.join('; ')}; ${remedy}`);
  }
}

function loadKeys(handling: PiiHandling, piiNames: readonly string[], env: NodeJS.ProcessEnv): PiiKeys {
  if (piiNames.length === 0) return {};
  const list = piiNames.map((n) => `"${n}"`).join(', ');
  const reason = `governance.piiHandling is ${handling} and ${list} ${piiNames.length === 1 ? 'is' : 'are'} marked pii`;
  if (handling === 'hash') return { hash: hashKeyFromEnv(env, reason) };
  if (handling === 'encrypt') return { encryption: encryptionKeyFromEnv(env, reason) };
  return {};
}

function metadataColumn(name: string, type: FieldType): Column {
  return columnOf({ name, type, nullable: false });
}

/**
 * Builds the transformer of one entity. Checks the manifest's PII settings against its keys and
 * loads the PII keys from the environment now, so a misconfiguration fails before any row is read
 * (RuntimeError 'config'); key material never appears in errors.
 */
export function createTransformer(
  manifest: ConnectorManifest,
  entityName: string,
  options: TransformerOptions = {},
): Transformer {
  const entity = entityOf(manifest, entityName);
  const handling = manifest.governance.piiHandling;
  const cdc = manifest.schema.updateStrategy === 'cdc';
  const metadataNames = cdc ? METADATA_COLUMNS : METADATA_COLUMNS.filter((n) => n !== OP);

  for (const field of entity.fields) {
    if (metadataNames.includes(field.name)) {
      throw new RuntimeError(
        'config',
        `entity "${entity.name}": field "${field.name}" collides with the metadata column the runtime adds; rename it in the source query`,
      );
    }
  }

  const piiFields = entity.fields.filter((f) => f.pii === true);
  const piiNames = new Set(piiFields.map((f) => f.name));
  checkKeys(manifest, entity, piiNames);
  const keys =
    options.keys ??
    loadKeys(
      handling,
      piiFields.map((f) => f.name),
      options.env ?? process.env,
    );

  const hints = new Map<string, string>();
  for (const column of options.sourceColumns ?? []) {
    if (column.numberHint !== undefined) hints.set(column.name, column.numberHint);
  }

  const columns: Column[] = [];
  const names: string[] = [];
  const functions: Array<PiiFunction | undefined> = [];
  const inherited: boolean[] = [];
  for (const field of entity.fields) {
    if (field.pii === true) {
      const fn = piiFunction(handling, field.type, keys);
      if (fn === undefined) continue; // exclude
      // Masks, hashes and ciphertexts are text, whatever the field's type (a number's hint is dropped).
      columns.push(columnOf({ name: field.name, type: 'string', nullable: field.nullable }));
      functions.push(fn);
    } else {
      columns.push(columnOf(field, hints.get(field.name)));
      functions.push(undefined);
    }
    names.push(field.name);
    // A plain-object row without the field would read Object.prototype's `toString` (or `__proto__`).
    inherited.push(field.name in Object.prototype);
  }
  columns.push(metadataColumn(EXTRACTED_AT, 'datetime'), metadataColumn(CONNECTOR_ID, 'string'));
  columns.push(metadataColumn(CONNECTOR_VERSION, 'string'));
  if (cdc) columns.push(metadataColumn(OP, 'string'));

  const columnNames = new Set(columns.map((c) => c.name));
  const allKeys = manifest.destination.mergeKeys ?? entity.primaryKey ?? [];
  // Outside merge mode keys only describe the table; drop excluded ones rather than fail.
  const mergeKeys = manifest.destination.writeMode === 'merge' ? allKeys : allKeys.filter((k) => columnNames.has(k));
  const cursor = manifest.schema.incrementalKey;
  const schema: TableSchema = {
    columns,
    partitionBy: manifest.destination.partitionBy,
    mergeKeys,
    ...(cursor !== undefined && columnNames.has(cursor) ? { incrementalKey: cursor } : {}),
  };
  checkTableSchema(schema);

  const connectorId = manifest.id;
  const connectorVersion = manifest.version;
  const now = options.now ?? (() => new Date());
  const count = names.length;
  const plainNames = names.filter((_n, i) => functions[i] === undefined);
  // CSV text passes as it is only where the manifest types a field as the source's catalog does: a
  // text column declared datetime or date needs the row path's parsing (offsets, strictness).
  const catalogType = new Map((options.sourceColumns ?? []).map((c) => [c.name, c.type]));
  const passesBulk =
    functions.every((fn) => fn === undefined) &&
    entity.fields.every((f) => f.pii === true || catalogType.get(f.name) === f.type);
  const passesCsv = passesBulk && csvCompatible(schema, plainNames);

  // Bulk pages (CSV, columnar) carry the source's fields as they are, and the metadata as constants.
  const checkBulk = (what: string, passes: boolean, fields: readonly string[]) => {
    if (!passes)
      throw new RuntimeError('internal', `transformer.${what}: this entity's rows need a transform; read them as rows`);
    const unknown = fields.filter((f) => !plainNames.includes(f));
    if (unknown.length > 0) {
      throw new RuntimeError(
        'internal',
        `transformer.${what}: the source sent fields the table does not have: ${unknown.join(', ')}`,
      );
    }
  };
  const constants = (extractedAt: Date) => ({
    [EXTRACTED_AT]: extractedAt,
    [CONNECTOR_ID]: connectorId,
    [CONNECTOR_VERSION]: connectorVersion,
  });

  return {
    passesBulk,
    passesCsv,
    csvPage(csv: CsvRows, extractedAt: Date): CsvPage {
      checkBulk('csvPage', passesCsv, csv.fields);
      return {
        kind: 'csv',
        data: csv.data,
        rows: csv.rows,
        fields: csv.fields,
        ...(csv.longestRow !== undefined ? { longestRow: csv.longestRow } : {}),
        constants: constants(extractedAt),
      };
    },
    columnarPage(columnar: ColumnarRows, extractedAt: Date): ColumnarPage {
      checkBulk('columnarPage', passesBulk, columnar.fields);
      return {
        kind: 'columnar',
        rows: columnar.rows,
        fields: columnar.fields,
        constants: constants(extractedAt),
        fill: (sink) => columnar.fill(sink),
      };
    },
    schema,
    sourceFields: sourceFieldsFor(manifest, entityName),
    pii: piiFields.map((f) => ({ field: f.name, handling })),
    apply(rows: readonly Row[], extractedAt: Date = now()): Row[] {
      if (!(extractedAt instanceof Date) || Number.isNaN(extractedAt.getTime())) {
        throw new RuntimeError('internal', 'transformer.apply: extractedAt is not a valid Date');
      }
      const at = new Date(extractedAt.getTime());
      const out = new Array<Row>(rows.length);
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        // No Object.prototype in the chain: a field named `__proto__` is an own field like any other.
        const target = newRecord();
        for (let i = 0; i < count; i++) {
          const name = names[i]!;
          const value = row[name];
          if (value === undefined || (inherited[i] && !Object.hasOwn(row, name))) continue;
          const fn = functions[i];
          target[name] = fn === undefined || value === null ? value : fn(value);
        }
        target[EXTRACTED_AT] = at;
        target[CONNECTOR_ID] = connectorId;
        target[CONNECTOR_VERSION] = connectorVersion;
        if (cdc) {
          const op = row[OP];
          if (op !== undefined) target[OP] = op;
        }
        out[r] = target;
      }
      return out;
    },
  };
}
