import { cronError } from './cron.js';
import { DERIVED_PARTITION_COLUMNS, FORMAT_COMPRESSIONS, type LakeFormat } from './enums.js';
import { unsupportedFieldNames } from './field-names.js';
import { CONNECTOR_ID, SEMVER } from './patterns.js';
import { closest, describeValue, shortText, type JsonPath, type Problem, type ProblemCode } from './problem.js';

/**
 * The rules a field-by-field check misses. They run on the raw document, before or without a
 * successful structural parse, so one pass reports every problem; each rule skips what is malformed
 * (the structural check reports that).
 */

type Obj = Readonly<Record<string, unknown>>;
const isObj = (value: unknown): value is Obj => value !== null && typeof value === 'object' && !Array.isArray(value);
/**
 * The own properties of an object, on a null prototype: reading `source.auth` or `schedule[field]` from it
 * never reaches `Object.prototype`, whatever names the document uses.
 */
const obj = (value: unknown): Obj =>
  Object.assign(Object.create(null) as Record<string, unknown>, isObj(value) ? value : {});
/** The items of an array, in a fresh one: array methods never consult the document's own `constructor`. */
const arr = (value: unknown): readonly unknown[] => {
  if (!Array.isArray(value)) return [];
  const items: unknown[] = [];
  for (let i = 0; i < value.length; i++) items.push(value[i]);
  return items;
};
/** A string the rules read; a longer one is reported by itself (too_long) and skipped here. */
const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length <= MAX_STRING_LENGTH ? value : undefined;

/** The longest string (value or key) a manifest holds: a long SQL query fits many times over. */
export const MAX_STRING_LENGTH = 65_536;

/** Lake locations the runtime writes to: S3 (and S3-compatible stores) and local folders. */
export const LAKE_SCHEMES = ['s3://', 'file://', 'a local path'] as const;

/** Lower-snake form of a name, as used inside connector ids. */
export function slug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[^\w\s-]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

interface EntityView {
  readonly name: string;
  readonly index: number;
  readonly fields: ReadonlySet<string>;
}

function entitiesOf(manifest: Obj): EntityView[] {
  return arr(obj(manifest.schema).entities).flatMap((entity, index) => {
    const name = str(obj(entity).name);
    if (name === undefined) return [];
    const fields = new Set(arr(obj(entity).fields).flatMap((f) => str(obj(f).name) ?? []));
    return [{ name, index, fields }];
  });
}

class Collector {
  readonly problems: Problem[] = [];
  error(code: ProblemCode, path: JsonPath, message: string, extra: Partial<Problem> = {}): void {
    this.problems.push({ code, severity: 'error', path, message, ...extra });
  }
  warn(code: ProblemCode, path: JsonPath, message: string, extra: Partial<Problem> = {}): void {
    this.problems.push({ code, severity: 'warning', path, message, ...extra });
  }
}

/** Checks that `column` is a field of every entity; reports the entities that lack it. */
function requireFieldEverywhere(
  out: Collector,
  entities: readonly EntityView[],
  column: string,
  path: JsonPath,
  role: string,
  allowed: readonly string[] = [],
): void {
  if (allowed.includes(column)) return;
  for (const entity of entities) {
    if (entity.fields.has(column)) continue;
    const suggestion = closest(column, [...entity.fields, ...allowed]);
    out.error(
      'unknown_field',
      path,
      `${role} ${describeValue(column)} is not a field of entity ${describeValue(entity.name)}`,
      {
        expected: `one of ${[...entity.fields, ...allowed].map(shortText).join(', ')}`,
        found: describeValue(column),
        ...(suggestion !== undefined ? { suggestion } : {}),
      },
    );
  }
}

function identityRules(out: Collector, m: Obj, entities: readonly EntityView[]): void {
  const id = str(m.id);
  const version = str(m.version);
  const rawProvider = str(obj(m.source).provider);
  const provider = rawProvider !== undefined ? slug(rawProvider) : undefined;
  if (version !== undefined && !SEMVER.test(version)) {
    out.error('invalid_version', ['version'], 'is not a semantic version', {
      expected: 'MAJOR.MINOR.PATCH, e.g. 1.0.0',
      found: describeValue(version),
    });
  }
  if (id === undefined) return;
  const match = CONNECTOR_ID.exec(id);
  if (!match) {
    out.error('invalid_id', ['id'], 'is not a connector id', {
      expected: 'connector_<provider>_<entity>_v<major>, lower-case, e.g. connector_postgres_orders_v1',
      found: describeValue(id),
    });
    return;
  }
  const [, middle, major] = match as unknown as [string, string, string];
  if (provider !== undefined && !`${middle}_`.startsWith(`${provider}_`)) {
    out.error(
      'id_provider_mismatch',
      ['id'],
      `does not start with the provider ${describeValue(`connector_${provider}_`)}`,
      {
        found: describeValue(id),
      },
    );
  } else if (provider !== undefined) {
    const entityPart = middle.slice(provider.length + 1);
    const names = entities.map((e) => slug(e.name));
    if (entityPart === '') {
      out.error('invalid_id', ['id'], 'has no entity part', {
        expected: `connector_${shortText(provider)}_<entity>_v${shortText(major)}`,
      });
    } else if (names.length > 0 && !names.includes(entityPart)) {
      out.warn(
        'id_entity_mismatch',
        ['id'],
        `entity part ${describeValue(entityPart)} names none of the entities (${names.map(shortText).join(', ')})`,
      );
    }
  }
  const versionMajor = version !== undefined ? SEMVER.exec(version)?.[1] : undefined;
  if (versionMajor !== undefined && versionMajor !== major) {
    out.error(
      'id_version_mismatch',
      ['id'],
      `ends in _v${shortText(major)} but version ${shortText(version!)} has major ${versionMajor}`,
      {
        expected: `_v${shortText(versionMajor)}`,
      },
    );
  }
}

/** The config keys each auth method needs; a Map, so a method named "constructor" needs nothing. */
const AUTH_NEEDS: ReadonlyMap<string, readonly string[]> = new Map([
  ['oauth2', ['tokenUrl', 'clientIdEnvVar', 'clientSecretEnvVar']],
  ['api_key', ['headerName', 'apiKeyEnvVar']],
  ['bearer', ['tokenEnvVar']],
  ['iam', ['roleArn']],
]);

function sourceRules(out: Collector, m: Obj): void {
  const source = obj(m.source);
  const type = str(source.type);
  const config = obj(obj(source.auth).config);
  const method = str(obj(source.auth).method);
  // What each source type needs on its own is the schema's (one shape per type); a file source needs
  // one of two fields, which no shape can say.
  if (type === 'file' && source.connectionString === undefined && source.baseUrl === undefined) {
    out.error('missing_field', ['source', 'connectionString'], 'a file source needs a connectionString or a baseUrl', {
      expected: 'where the files are, e.g. file:///data/orders or s3://bucket/prefix/',
    });
  }
  for (const key of method !== undefined ? (AUTH_NEEDS.get(method) ?? []) : []) {
    if (config[key] === undefined) {
      out.error('missing_field', ['source', 'auth', 'config', key], `auth method ${method} needs ${key}`);
    }
  }
  if (method === 'basic' && (config.usernameEnvVar === undefined) !== (config.passwordEnvVar === undefined)) {
    const missing = config.usernameEnvVar === undefined ? 'usernameEnvVar' : 'passwordEnvVar';
    out.error(
      'missing_field',
      ['source', 'auth', 'config', missing],
      'basic auth names both usernameEnvVar and passwordEnvVar, or neither (credentials then come with the connection string reference)',
    );
  }
  const rate = obj(source.rateLimit);
  if (
    typeof rate.burstLimit === 'number' &&
    typeof rate.requestsPerSecond === 'number' &&
    rate.burstLimit < rate.requestsPerSecond
  ) {
    out.warn(
      'burst_below_rate',
      ['source', 'rateLimit', 'burstLimit'],
      'is below requestsPerSecond, so the rate can never be reached',
    );
  }
  const connection = str(source.connectionString);
  if (connection !== undefined && type === 'jdbc' && !connection.includes('${') && /:\/\//.test(connection)) {
    out.warn(
      'connection_not_reference',
      ['source', 'connectionString'],
      'is a literal connection string; an env-var reference such as ${POSTGRES_CONNECTION_STRING} keeps hosts and credentials out of the manifest',
    );
  }
}

function schemaRules(out: Collector, m: Obj, entities: readonly EntityView[]): void {
  const schema = obj(m.schema);
  const seenEntities = new Set<string>();
  for (const entity of entities) {
    if (seenEntities.has(entity.name)) {
      out.error(
        'duplicate_entity',
        ['schema', 'entities', entity.index, 'name'],
        `entity ${describeValue(entity.name)} is defined twice`,
      );
    }
    seenEntities.add(entity.name);
    const rawEntity = obj(arr(schema.entities)[entity.index]);
    const seenFields = new Set<string>();
    arr(rawEntity.fields).forEach((field, fieldIndex) => {
      const name = str(obj(field).name);
      if (name === undefined) return;
      if (seenFields.has(name)) {
        out.error(
          'duplicate_field',
          ['schema', 'entities', entity.index, 'fields', fieldIndex, 'name'],
          `field ${describeValue(name)} appears twice in entity ${describeValue(entity.name)}`,
        );
      }
      seenFields.add(name);
    });
    arr(rawEntity.primaryKey).forEach((key, keyIndex) => {
      const column = str(key);
      if (column !== undefined) {
        requireFieldEverywhere(
          out,
          [entity],
          column,
          ['schema', 'entities', entity.index, 'primaryKey', keyIndex],
          'primary key',
        );
      }
    });
  }
  arr(schema.relationships).forEach((rel, index) => {
    for (const side of ['from', 'to'] as const) {
      const ref = obj(obj(rel)[side]);
      const entityName = str(ref.entity);
      const fieldName = str(ref.field);
      if (entityName === undefined) continue;
      const entity = entities.find((e) => e.name === entityName);
      const path = ['schema', 'relationships', index, side];
      if (!entity) {
        const suggestion = closest(
          entityName,
          entities.map((e) => e.name),
        );
        out.error(
          'unknown_entity',
          [...path, 'entity'],
          `entity ${describeValue(entityName)} is not defined in schema.entities`,
          suggestion !== undefined ? { suggestion } : {},
        );
      } else if (fieldName !== undefined) {
        requireFieldEverywhere(out, [entity], fieldName, [...path, 'field'], 'relationship field');
      }
    }
  });

  const strategy = str(schema.updateStrategy);
  const incrementalKey = str(schema.incrementalKey);
  if (strategy === 'incremental') {
    if (incrementalKey === undefined) {
      out.error(
        'missing_field',
        ['schema', 'incrementalKey'],
        'updateStrategy incremental needs an incrementalKey (the cursor field, e.g. updated_at)',
      );
    } else {
      requireFieldEverywhere(out, entities, incrementalKey, ['schema', 'incrementalKey'], 'incrementalKey');
    }
  }
  if (strategy === 'cdc') {
    const cdc = schema.cdcConfig;
    if (cdc === undefined) {
      out.error(
        'missing_field',
        ['schema', 'cdcConfig'],
        'updateStrategy cdc needs a cdcConfig ({ cursorField, cursorType })',
      );
    } else {
      const cursorField = str(obj(cdc).cursorField);
      const cursorType = str(obj(cdc).cursorType);
      // A log position (xmin, an LSN, a binlog offset) is a system column, not a field of the entity.
      if (cursorField !== undefined && (cursorType === 'timestamp' || cursorType === 'sequence')) {
        requireFieldEverywhere(out, entities, cursorField, ['schema', 'cdcConfig', 'cursorField'], 'cdc cursorField');
      }
    }
    const writeMode = str(obj(m.destination).writeMode);
    if (writeMode !== undefined && writeMode !== 'merge') {
      out.warn(
        'cdc_without_merge',
        ['destination', 'writeMode'],
        `cdc with writeMode ${shortText(writeMode)} keeps every change as a row; deletes and updates are applied to the table only with merge`,
      );
    }
  }
  if (strategy !== undefined && strategy !== 'cdc' && schema.cdcConfig !== undefined) {
    out.warn('unused_field', ['schema', 'cdcConfig'], `is ignored with updateStrategy ${shortText(strategy)}`);
  }
}

/** The compressions a lake format can carry; undefined for a name that is not a format (own keys only). */
function compressionsOf(format: string): readonly string[] | undefined {
  return Object.hasOwn(FORMAT_COMPRESSIONS, format) ? FORMAT_COMPRESSIONS[format as LakeFormat] : undefined;
}

function destinationRules(out: Collector, m: Obj, entities: readonly EntityView[]): void {
  const destination = obj(m.destination);
  const lakePath = str(destination.lakePath);
  if (lakePath !== undefined) {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(lakePath)?.[1]?.toLowerCase();
    if (scheme !== undefined && scheme !== 's3' && scheme !== 'file') {
      out.error(
        'unsupported_scheme',
        ['destination', 'lakePath'],
        `the ${shortText(scheme)}:// scheme is not supported`,
        {
          expected: LAKE_SCHEMES.join(', '),
          found: describeValue(lakePath),
        },
      );
    } else if (scheme === 's3' && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/.test(lakePath)) {
      out.error(
        'invalid_lake_path',
        ['destination', 'lakePath'],
        'is not s3://<bucket>/<prefix> with a valid bucket name',
        { found: describeValue(lakePath) },
      );
    }
  }
  const format = str(destination.format);
  const compression = str(destination.compression);
  const allowed = format !== undefined ? compressionsOf(format) : undefined;
  if (allowed && compression !== undefined && !allowed.includes(compression)) {
    out.error(
      'unsupported_compression',
      ['destination', 'compression'],
      `${format} files cannot use ${shortText(compression)} compression`,
      {
        expected: `one of ${allowed.join(', ')}`,
        found: JSON.stringify(compression),
      },
    );
  }
  arr(destination.partitionBy).forEach((item, index) => {
    const column = str(item);
    if (column !== undefined) {
      requireFieldEverywhere(
        out,
        entities,
        column,
        ['destination', 'partitionBy', index],
        'partition column',
        DERIVED_PARTITION_COLUMNS,
      );
    }
  });
  const writeMode = str(destination.writeMode);
  const mergeKeys = destination.mergeKeys;
  if (writeMode === 'merge') {
    if (arr(mergeKeys).length === 0) {
      out.error(
        'missing_field',
        ['destination', 'mergeKeys'],
        'writeMode merge needs mergeKeys (the fields that identify a row, e.g. ["id"])',
      );
    }
    arr(mergeKeys).forEach((item, index) => {
      const key = str(item);
      if (key !== undefined)
        requireFieldEverywhere(out, entities, key, ['destination', 'mergeKeys', index], 'merge key');
    });
  } else if (mergeKeys !== undefined && writeMode !== undefined) {
    out.warn('unused_field', ['destination', 'mergeKeys'], `is ignored with writeMode ${shortText(writeMode)}`);
  }
}

/** What each schedule type needs is the schema's (one shape per type); a cron expression must also parse. */
function scheduleRules(out: Collector, m: Obj): void {
  const schedule = obj(m.schedule);
  const expression = str(schedule.expression);
  if (str(schedule.type) === 'cron' && expression !== undefined) {
    const error = cronError(expression);
    if (error !== undefined) {
      out.error('invalid_cron', ['schedule', 'expression'], error, {
        expected: '5 fields, or 6 with seconds first',
        found: describeValue(expression),
      });
    }
  }
}

function governanceRules(out: Collector, m: Obj): void {
  const version = str(obj(obj(m.governance).contract).version);
  if (version !== undefined && !/^\d+(\.\d+){0,2}$/.test(version)) {
    out.error('invalid_version', ['governance', 'contract', 'version'], 'is not a contract version', {
      expected: 'a version such as 1 or 1.0 or 1.0.0',
      found: describeValue(version),
    });
  }
}

/** Field names no lake table can hold beside the others: a runtime column's, or a case-only twin. */
function fieldNameRules(out: Collector, m: Obj, entities: readonly EntityView[]): void {
  const cdc = obj(m.schema).updateStrategy === 'cdc';
  for (const entity of entities) {
    const names = arr(obj(arr(obj(m.schema).entities)[entity.index]).fields).map((field) => str(obj(field).name) ?? '');
    for (const problem of unsupportedFieldNames(names, cdc)) {
      out.error(
        'unsupported_field_name',
        ['schema', 'entities', entity.index, 'fields', problem.index, 'name'],
        `entity "${entity.name}": ${problem.reason}`,
      );
    }
  }
}

/** Runs every cross-field rule over a (possibly malformed) manifest document. */
export function checkRules(document: unknown): Problem[] {
  const m = obj(document);
  const out = new Collector();
  const entities = entitiesOf(m);
  identityRules(out, m, entities);
  sourceRules(out, m);
  schemaRules(out, m, entities);
  fieldNameRules(out, m, entities);
  destinationRules(out, m, entities);
  scheduleRules(out, m);
  governanceRules(out, m);
  return out.problems;
}
