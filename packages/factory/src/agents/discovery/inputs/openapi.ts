import type { Auth, ProviderDefinition } from '@connector-factory/ir';
import { readOpenApi, type OpenApiCollection } from '../../../openapi/index.js';
import { redactConnection, withoutCredentials } from '../description/redact-connection.js';

/** What an OpenAPI document (or its URL in the words) says about the source, and how to explain it. */
export interface OpenApiFacts {
  readonly words: string;
  readonly title?: string;
  readonly baseUrl?: string;
  readonly auth?: Auth;
  readonly entities: readonly OpenApiCollection[];
  readonly warnings: readonly string[];
  readonly summary: (provider: ProviderDefinition) => string;
}

/** An OpenAPI document known only by its URL: never fetched, its origin is the base URL guess. */
export function openApiFromUrl(url: string, words: string): OpenApiFacts {
  let origin: string | undefined;
  try {
    origin = new URL(url).origin;
  } catch {
    origin = undefined;
  }
  return {
    words,
    ...(origin !== undefined ? { baseUrl: origin } : {}),
    entities: [],
    warnings: [
      `the OpenAPI document at ${url} was not fetched (discovery never goes to the network): download it and pass the file with --openapi`,
    ],
    summary: (provider) =>
      `an OpenAPI document (not fetched): provider ${provider.provider}, baseUrl guessed from its origin`,
  };
}

/** Reads the --openapi input: a file's document, or (an http(s) URL, not fetched) what its URL says. */
export async function readOpenApiInput(location: string, rest: ProviderDefinition | undefined): Promise<OpenApiFacts> {
  if (/^https?:\/\//i.test(location)) {
    return openApiFromUrl(withoutCredentials(location), `--openapi ${redactConnection(location)}`);
  }
  const document = await readOpenApi(location, rest);
  const { version, title, baseUrl, auth, authWords, collections: entities, warnings } = document;
  const incremental = entities.filter((e) => e.incrementalParam !== undefined);
  const words = `--openapi ${location}`;
  return {
    words,
    ...(title !== undefined ? { title } : {}),
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    auth,
    entities,
    warnings,
    summary: (provider) =>
      [
        `OpenAPI ${version} document${title !== undefined ? ` "${title}"` : ''}: provider ${provider.provider}`,
        baseUrl !== undefined ? `baseUrl ${baseUrl} (servers)` : undefined,
        authWords,
        `collections ${entities.map((e) => `GET ${e.path}`).join(', ') || 'none'}`,
        incremental.length > 0
          ? `incremental filters ${incremental.map((e) => `${e.incrementalParam} (${e.path})`).join(', ')}`
          : undefined,
      ]
        .filter((part) => part !== undefined)
        .join('; '),
  };
}
