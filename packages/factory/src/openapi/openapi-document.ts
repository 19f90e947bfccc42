import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FactoryError } from '../errors.js';
import { parseStructuredText } from '../source-text.js';
import { obj, str, type Json } from './json-node.js';

/** An OpenAPI 3 or Swagger 2 document read from a file, with a resolver of its local `$ref`s. */
export interface OpenApiDocument {
  /** The file it was read from, for messages. */
  readonly file: string;
  readonly root: Json;
  /** `3.1.0`, or `Swagger 2.0`. */
  readonly version: string;
  readonly swagger2: boolean;
  /** What was read but not understood (external references, relative servers, …), in the order met. */
  readonly warnings: string[];
  /** The node a `$ref` points at (local references only; an external one is a warning and an empty node). */
  readonly resolve: (node: unknown) => unknown;
}

/** Reads and parses the document at a path or file:// URL; a missing file, bad syntax or no version field is a FactoryError. */
export async function loadOpenApiDocument(location: string): Promise<OpenApiDocument> {
  const file = /^file:\/\//i.test(location) ? fileURLToPath(location) : location;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new FactoryError('not_found', `${file}: cannot read the OpenAPI document: ${reason}`, [], { cause: error });
  }
  const parsed = parseStructuredText(text, extname(file).toLowerCase() === '.json' ? 'json' : 'yaml');
  if (!parsed.ok) {
    const where = parsed.position !== undefined ? `:${parsed.position.line}:${parsed.position.column}` : '';
    throw new FactoryError(
      'invalid_input',
      `${file}${where}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${parsed.message}`,
    );
  }
  const doc = obj(parsed.value);
  const version = str(doc.openapi) ?? (doc.swagger !== undefined ? `Swagger ${String(doc.swagger)}` : undefined);
  if (version === undefined) {
    throw new FactoryError(
      'invalid_input',
      `${file}: not an OpenAPI document (it has no "openapi" or "swagger" field)`,
    );
  }
  const warnings: string[] = [];
  const resolve = (node: unknown, depth = 0): unknown => {
    const ref = str(obj(node).$ref);
    if (ref === undefined || depth > 20) return node;
    if (!ref.startsWith('#/')) {
      warnings.push(`${file}: external reference ${ref} not followed`);
      return {};
    }
    let target: unknown = doc;
    for (const part of ref.slice(2).split('/')) target = obj(target)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    return resolve(target, depth + 1);
  };
  const swagger2 = doc.swagger !== undefined;
  return { file, root: doc, version, swagger2, warnings, resolve };
}
