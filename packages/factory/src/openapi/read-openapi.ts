import type { Auth, ProviderDefinition } from '@connector-factory/ir';
import { collections, type OpenApiCollection } from './collections.js';
import { obj, str } from './json-node.js';
import { loadOpenApiDocument } from './openapi-document.js';
import { documentAuth } from './security-scheme.js';
import { serverUrl } from './server-url.js';

/** What an OpenAPI document says about its API: title, base URL, auth and collection endpoints. */
export interface OpenApiSummary {
  readonly file: string;
  readonly version: string;
  readonly title?: string;
  readonly baseUrl?: string;
  readonly auth: Auth;
  /** How the auth was read ("security scheme \"bearer\": auth bearer"). */
  readonly authWords: string;
  readonly collections: readonly OpenApiCollection[];
  readonly warnings: readonly string[];
}

/**
 * Reads an OpenAPI 3 or Swagger 2 document from a file (a path or file:// URL): base URL, auth,
 * collection endpoints, incremental filters. `rest` is the generic REST provider, whose registry entry
 * names the auth env vars.
 */
export async function readOpenApi(location: string, rest: ProviderDefinition | undefined): Promise<OpenApiSummary> {
  const document = await loadOpenApiDocument(location);
  const baseUrl = serverUrl(document);
  const { auth, words: authWords } = documentAuth(document, baseUrl, rest);
  const found = collections(document);
  const title = str(obj(document.root.info).title);
  return {
    file: document.file,
    version: document.version,
    ...(title !== undefined ? { title } : {}),
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    auth,
    authWords,
    collections: found,
    warnings: document.warnings,
  };
}
