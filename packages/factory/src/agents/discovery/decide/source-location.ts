import type { ProviderDefinition } from '@connector-factory/ir';
import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import type { Inputs } from '../inputs/read-inputs.js';
import type { Notes } from '../notes.js';
import { GENERIC_PROVIDERS, envPrefix } from '../provider-names.js';
import type { NamedProvider } from './named-provider.js';

/** Where the source is: its base URL (APIs) or connection-string reference (databases, brokers, files). */
export function locateSource(
  provider: ProviderDefinition,
  named: NamedProvider | undefined,
  inputs: Inputs,
  registry: ProviderRegistry,
  notes: Notes,
): { baseUrl?: string; connectionString?: string } {
  const { connection, openapi, graphqlEndpoint, sourceLocation, apiUrl } = inputs;
  let baseUrl = named?.baseUrl ?? provider.baseUrl;
  if (apiUrl !== undefined && provider.type === 'rest_api' && named?.baseUrl === undefined) {
    baseUrl = apiUrl.url.replace(/\/+$/, '');
    if (provider !== registry.find('rest'))
      notes.match(apiUrl.words, `baseUrl for ${provider.displayName}`, apiUrl.start);
  }
  if (openapi?.baseUrl !== undefined && (GENERIC_PROVIDERS.has(provider.provider) || baseUrl === undefined)) {
    baseUrl = openapi.baseUrl;
  }
  if (graphqlEndpoint !== undefined) baseUrl = graphqlEndpoint;
  if (provider.type === 'jdbc') baseUrl = undefined;
  const placeholders = baseUrl?.match(/\{\w+\}/g);
  if (baseUrl !== undefined && placeholders) {
    notes.warn(`baseUrl ${baseUrl}: fill in ${placeholders.join(', ')} (or name the host in the description)`);
  }
  if (graphqlEndpoint?.startsWith('http://')) {
    notes.warn('the GraphQL endpoint is plain http: credentials would travel unencrypted');
  }

  let connectionString: string | undefined;
  if (connection !== undefined) {
    connectionString = connection.reference;
    if (connection.exportHint !== undefined) notes.warn(connection.exportHint);
  } else if (sourceLocation !== undefined && provider.type === 'file') {
    const { location } = sourceLocation;
    connectionString = /^[a-z][a-z0-9+.-]*:\/\//i.test(location) ? location : `file://${location}`;
  } else if (provider.connectionString !== undefined) {
    connectionString = defaultConnectionReference(provider);
    if (provider.type === 'jdbc') {
      notes.warn(
        `the connector reads the database URL (${provider.connectionString}) from ${connectionString.slice(2, -1)}: export it before running`,
      );
    }
  }
  return {
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    ...(connectionString !== undefined ? { connectionString } : {}),
  };
}

/** `${POSTGRES_CONNECTION_STRING}` for databases; other templates get a variable per placeholder. */
function defaultConnectionReference(provider: ProviderDefinition): string {
  const template = provider.connectionString!;
  if (provider.type === 'jdbc') return `\${${envPrefix(provider)}_CONNECTION_STRING}`;
  return template.replace(/\{(\w+)\}/g, (_whole, name: string) => `\${${envPrefix(provider)}_${name.toUpperCase()}}`);
}
