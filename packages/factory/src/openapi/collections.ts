import { normalise } from '../normalise.js';
import { arr, isObject, obj, str, type Json } from './json-node.js';
import type { OpenApiDocument } from './openapi-document.js';

/** A collection endpoint of an OpenAPI document: a GET without path parameters that returns a list. */
export interface OpenApiCollection {
  /** The last segment of the path (`/v1/customers` → customers). */
  readonly name: string;
  readonly path: string;
  /** A query parameter that filters by modification time (updated_since, modified_after, …). */
  readonly incrementalParam?: string;
  /** The item field that filter works on, when the response schema shows it (updated_at, modified_at, …). */
  readonly cursorField?: string;
}

/** Last path segments that are never a data collection. */
const NOT_COLLECTIONS = new Set(
  'health healthz ping status version metrics openapi swagger docs me login logout token oauth search'.split(' '),
);
const INCREMENTAL_PARAM =
  /^(updated|modified|changed|lastmodified|lastupdated)(at)?(since|after|from|gt|gte|min|start)$/;
const CURSOR_FIELDS = new Set(
  'updatedat modifiedat lastmodified lastmodifiedat updated modified lastupdated lastupdatedat updatedtime modifiedtime datemodified'.split(
    ' ',
  ),
);

/** The document's collections, in document order, with the updated-since filter and cursor field each shows. */
export function collections(document: OpenApiDocument): OpenApiCollection[] {
  const { root: doc, swagger2, file, warnings, resolve } = document;
  const entities: OpenApiCollection[] = [];
  for (const [path, rawItem] of Object.entries(obj(doc.paths))) {
    const item = obj(resolve(rawItem));
    if (!isObject(item.get) || path.includes('{')) continue;
    const get = obj(item.get);
    const last = path.split('/').filter(Boolean).pop();
    if (last === undefined || /^v\d+(\.\d+)?$/i.test(last) || NOT_COLLECTIONS.has(last.toLowerCase())) continue;
    const responses = obj(get.responses);
    const ok = obj(resolve(responses['200'] ?? responses['2XX'] ?? responses['206'] ?? responses.default));
    const content = obj(ok.content);
    const media = content['application/json'] ?? Object.values(content)[0];
    const schema = resolve(swagger2 ? ok.schema : obj(media).schema);
    const list = listItems(schema, resolve);
    if (list === 'single' || (list === undefined && !last.endsWith('s'))) continue;
    if (entities.some((e) => e.name === last)) continue;
    const params = [...arr(item.parameters), ...arr(get.parameters)].map((p) => obj(resolve(p)));
    const filter = str(
      params.find(
        (p) => str(p.in) === 'query' && INCREMENTAL_PARAM.test(normalise(str(p.name) ?? '').replace(/[[\]]/g, '')),
      )?.name,
    );
    const cursorField =
      filter !== undefined && list !== undefined
        ? Object.keys(propertiesOf(list, resolve)).find((f) => CURSOR_FIELDS.has(normalise(f)))
        : undefined;
    entities.push({
      name: last,
      path,
      ...(filter !== undefined ? { incrementalParam: filter } : {}),
      ...(cursorField !== undefined ? { cursorField } : {}),
    });
  }
  if (entities.length === 0)
    warnings.push(`${file}: no collection GET endpoint found (GET paths without {parameters} that return a list)`);
  return entities;
}

/** The item schema of a list response (an array, or an object wrapping one), 'single' for one object, undefined if unknown. */
function listItems(schema: unknown, resolve: (node: unknown) => unknown): unknown {
  const s = obj(resolve(schema));
  if (Object.keys(s).length === 0) return undefined;
  if (s.type === 'array') return resolve(s.items) ?? {};
  const properties = propertiesOf(s, resolve);
  for (const key of ['data', 'items', 'results', 'records', 'entries', 'values', 'nodes']) {
    const property = obj(resolve(properties[key]));
    if (property.type === 'array') return resolve(property.items) ?? {};
  }
  for (const value of Object.values(properties)) {
    const property = obj(resolve(value));
    if (property.type === 'array') return resolve(property.items) ?? {};
  }
  return 'single';
}

function propertiesOf(schema: unknown, resolve: (node: unknown) => unknown): Json {
  const s = obj(resolve(schema));
  let properties: Record<string, unknown> = { ...obj(s.properties) };
  for (const part of arr(s.allOf)) properties = { ...properties, ...propertiesOf(part, resolve) };
  return properties;
}
