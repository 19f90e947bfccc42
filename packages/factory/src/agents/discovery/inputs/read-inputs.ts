import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import type { LocationMention, ParsedDescription, UrlMention } from '../description/mentions.js';
import { redactConnection } from '../description/redact-connection.js';
import { nonEmpty, type DiscoverInput } from '../discover-input.js';
import type { Notes } from '../notes.js';
import { readConnection, type ConnectionFacts } from './connection-string.js';
import { readGraphqlEndpoint } from './graphql.js';
import { openApiFromUrl, readOpenApiInput, type OpenApiFacts } from './openapi.js';

/** The inputs besides the words, and the structured things found inside the words. */
export interface Inputs {
  readonly connection?: ConnectionFacts;
  /** Where the connection's explanation goes: its offset in the description, or last for --connection. */
  readonly connectionOrder?: number;
  readonly openapi?: OpenApiFacts;
  readonly openapiOrder?: number;
  readonly graphqlEndpoint?: string;
  readonly graphqlWords?: string;
  readonly graphqlOrder?: number;
  readonly sourceLocation?: LocationMention;
  readonly apiUrl?: UrlMention;
}

/** The facts of the structured inputs: --connection / --openapi / --graphql, or the same things written in the words. */
export async function readInputs(
  input: DiscoverInput,
  parsed: ParsedDescription,
  registry: ProviderRegistry,
  notes: Notes,
): Promise<Inputs> {
  const connectionInput = nonEmpty(input.connection);
  const openapiInput = nonEmpty(input.openapi);
  const textConnection = parsed.connections[0];
  let connection: ConnectionFacts | undefined;
  if (connectionInput !== undefined) {
    connection = readConnection(
      connectionInput,
      registry,
      `--connection ${redactConnection(connectionInput)}`,
      input.env,
    );
  } else if (textConnection !== undefined) {
    connection = readConnection(textConnection.raw, registry, textConnection.words, input.env);
  }
  const ignored = parsed.connections.slice(connectionInput !== undefined ? 0 : 1);
  if (ignored.length > 0) {
    notes.warn(`used one connection string; ignored ${ignored.map((c) => `"${c.words}"`).join(', ')}`);
  }
  const openapiUrl = parsed.urls.find((u) => u.kind === 'openapi');
  let openapi: OpenApiFacts | undefined;
  if (openapiInput !== undefined) openapi = await readOpenApiInput(openapiInput, registry.find('rest'));
  else if (openapiUrl !== undefined) openapi = openApiFromUrl(openapiUrl.url, openapiUrl.words);
  const graphql = readGraphqlEndpoint(
    nonEmpty(input.graphqlEndpoint),
    parsed.urls.find((u) => u.kind === 'graphql'),
    notes,
  );
  const sourceLocation = parsed.locations.find((l) => l.role === 'source');
  const apiUrl = parsed.urls.find((u) => u.kind === 'api');
  return {
    ...(connection !== undefined ? { connection } : {}),
    ...(connection !== undefined && connectionInput === undefined ? { connectionOrder: textConnection!.start } : {}),
    ...(openapi !== undefined ? { openapi } : {}),
    ...(openapiInput === undefined && openapiUrl !== undefined ? { openapiOrder: openapiUrl.start } : {}),
    ...(graphql !== undefined ? { graphqlEndpoint: graphql.endpoint, graphqlWords: graphql.words } : {}),
    ...(graphql?.order !== undefined ? { graphqlOrder: graphql.order } : {}),
    ...(sourceLocation !== undefined ? { sourceLocation } : {}),
    ...(apiUrl !== undefined ? { apiUrl } : {}),
  };
}
