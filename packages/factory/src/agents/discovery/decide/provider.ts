import type { ProviderDefinition } from '@connector-factory/ir';
import { FactoryError } from '../../../errors.js';
import { normalise } from '../../../normalise.js';
import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import type { ParsedDescription, ProviderMention } from '../description/mentions.js';
import type { Inputs } from '../inputs/read-inputs.js';
import type { Notes } from '../notes.js';
import { GENERIC_PROVIDERS } from '../provider-names.js';
import { ambiguity, providerFromText, type NamedProvider } from './named-provider.js';
import { unknownProvider } from './unknown-provider.js';

/**
 * The provider: what the words say, reconciled with what the structured inputs say. A connection
 * string or OpenAPI document that contradicts the words is an error; a GraphQL endpoint wins (with a warning).
 */
export function resolveProvider(
  parsed: ParsedDescription,
  inputs: Inputs,
  registry: ProviderRegistry,
  notes: Notes,
): { provider: ProviderDefinition; named: NamedProvider | undefined } {
  const named = providerFromText(parsed, notes);
  const rest = registry.find('rest');
  let provider = named?.provider;
  const contradiction = (current: ProviderDefinition, what: string, other: ProviderDefinition) =>
    new FactoryError(
      'invalid_input',
      `the description names ${current.provider} but ${what} is for ${other.provider}; name one source`,
      [`candidates: ${current.provider} (${current.displayName}), ${other.provider} (${other.displayName})`],
    );
  const { connection, openapi, graphqlEndpoint, sourceLocation, apiUrl } = inputs;
  if (connection !== undefined) {
    if (connection.provider !== undefined) {
      if (provider !== undefined && provider !== connection.provider) {
        throw contradiction(provider, 'the connection string', connection.provider);
      }
      provider = connection.provider;
    } else if (provider === undefined) {
      throw new FactoryError(
        'invalid_input',
        `cannot tell which database ${connection.reference} points at: name it in the description ("… from Postgres") or use a variable name that says (PG_URL, MYSQL_URL)`,
      );
    }
  }
  if (graphqlEndpoint !== undefined) {
    const graphql = registry.get('graphql');
    if (provider !== undefined && provider !== graphql) {
      notes.warn(
        `${provider.displayName}'s registry entry is a ${provider.type} source; the GraphQL endpoint is read with the generic graphql provider`,
      );
    }
    provider = graphql;
    notes.match(
      inputs.graphqlWords!,
      `provider graphql (a GraphQL endpoint); baseUrl ${graphqlEndpoint}`,
      inputs.graphqlOrder,
    );
  }
  if (openapi !== undefined && rest !== undefined) {
    if (provider !== undefined && provider.type !== 'rest_api')
      throw contradiction(provider, 'the OpenAPI document', rest);
    if (provider === undefined || GENERIC_PROVIDERS.has(provider.provider)) provider = rest;
    notes.match(openapi.words, openapi.summary(provider), inputs.openapiOrder);
  }
  if (
    sourceLocation !== undefined &&
    connection === undefined &&
    graphqlEndpoint === undefined &&
    openapi === undefined
  ) {
    const fromLocation = registry.get(/^s3a?:\/\//i.test(sourceLocation.location) ? 's3' : 'local-files');
    if (provider !== undefined && provider !== fromLocation) {
      throw ambiguity([
        { provider, words: named!.words },
        { provider: fromLocation, words: sourceLocation.words },
      ]);
    }
    provider = fromLocation;
    notes.match(sourceLocation.words, `source location of provider ${provider.provider}`, sourceLocation.start);
  }
  if (provider === undefined && apiUrl !== undefined && rest !== undefined) {
    provider = rest;
    notes.match(
      apiUrl.words,
      `an HTTPS API with no registry entry: provider rest, baseUrl ${apiUrl.url}`,
      apiUrl.start,
    );
  }
  if (provider === undefined) throw unknownProvider(parsed, registry);

  const sender = named?.sender;
  for (const mention of parsed.providers) {
    const meaning =
      sender !== undefined && mention.provider === sender.provider
        ? `the sender of the events (${sender.provider.displayName}), received by provider ${provider.provider}`
        : describeMention(mention, provider);
    notes.match(mention.words, meaning, mention.start);
  }
  return { provider, named };
}

/** The registry spelling of a normalised alias key. */
function aliasText(provider: ProviderDefinition, key: string): string {
  return provider.aliases.find((a) => normalise(a) === key) ?? provider.provider;
}

function describeMention(mention: ProviderMention, chosen: ProviderDefinition): string {
  const p = mention.provider;
  if (p !== chosen && mention.how !== 'host') return `${p.provider} (${p.displayName}), not used`;
  switch (mention.how) {
    case 'name':
      return `provider ${p.provider} (${p.displayName})`;
    case 'alias':
      return `provider ${p.provider} (${p.displayName}; alias "${aliasText(p, mention.key)}")`;
    case 'typo': {
      const target = normalise(p.provider) === mention.key ? p.provider : aliasText(p, mention.key);
      return `provider ${p.provider} (${p.displayName}; typo of "${target}", ${mention.distance} edit${mention.distance === 1 ? '' : 's'})`;
    }
    case 'host':
      return `provider ${p.provider} (${p.displayName}; its host), baseUrl ${mention.baseUrl ?? p.baseUrl ?? ''}`;
  }
}
