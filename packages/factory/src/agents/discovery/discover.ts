import { FactoryError } from '../../errors.js';
import type { ProviderRegistry } from '../../registry/provider-registry.js';
import { chooseAuth } from './decide/auth.js';
import { chooseDestination } from './decide/destination.js';
import { chooseEntities } from './decide/entities.js';
import { describeIntent } from './decide/intent-words.js';
import { withNamedCursor } from './decide/named-cursor.js';
import { resolveProvider } from './decide/provider.js';
import { decideSchedule } from './decide/schedule.js';
import { locateSource } from './decide/source-location.js';
import { decideStrategy } from './decide/strategy.js';
import { parseDescription } from './description/parse-description.js';
import { nonEmpty, type DiscoverInput } from './discover-input.js';
import { readInputs } from './inputs/read-inputs.js';
import { Notes } from './notes.js';
import { GENERIC_PROVIDERS } from './provider-names.js';
import type { SourceManifest } from './source-manifest.js';

export type { DiscoverInput } from './discover-input.js';

/*
 * Discovery is a pipeline of three stages, each in its own folder:
 *   description/  the sentence read into mentions (providers, tables, cursor, schedule, locations, …);
 *   inputs/       the connection string, OpenAPI document and GraphQL endpoint read into facts;
 *   decide/       facts and mentions turned into the SourceManifest's decisions, each with its explanation.
 */

/**
 * The Discovery Agent: turns a description (and/or a connection string, OpenAPI document or GraphQL
 * endpoint) into a SourceManifest drawn from the provider registry, explaining which words matched
 * what. Deterministic and offline. Throws FactoryError: `usage` for empty input, `not_found` for an
 * unknown provider (with the closest ones), `invalid_input` for ambiguity or contradictions.
 */
export async function discover(input: DiscoverInput, registry: ProviderRegistry): Promise<SourceManifest> {
  const description = input.description?.trim() ?? '';
  const given = [input.connection, input.openapi, input.graphqlEndpoint].filter((v) => nonEmpty(v) !== undefined);
  if (description === '' && given.length === 0) {
    throw new FactoryError(
      'usage',
      'nothing to discover: give a description such as "Stream changes from orders table in Postgres", or --connection, --openapi or --graphql',
    );
  }
  if (given.length > 1) throw new FactoryError('usage', 'give at most one of --connection, --openapi and --graphql');

  const parsed = parseDescription(description, registry);
  const notes = new Notes();
  parsed.warnings.forEach((w) => notes.warn(w));
  const inputs = await readInputs(input, parsed, registry, notes);
  const { provider, named } = resolveProvider(parsed, inputs, registry, notes);
  const { entities, entityEndpoints, allEntities } = chooseEntities(parsed, provider, inputs.openapi, registry, notes);

  const decided = decideStrategy(provider, parsed.intents, entities, inputs.openapi, notes);
  const { streamFallback } = decided;
  const strategy = withNamedCursor(decided.strategy, parsed, provider, notes);
  for (const intent of parsed.intents) notes.match(intent.words, describeIntent(intent, strategy), intent.start);
  const schedule = decideSchedule(provider, strategy, parsed, streamFallback, named?.sender?.provider, notes);
  if (parsed.schedule !== undefined && schedule.type !== 'event') {
    const when =
      schedule.type === 'cron'
        ? schedule.expression
        : schedule.type === 'interval'
          ? `every ${schedule.intervalSeconds} s`
          : schedule.type;
    notes.match(parsed.schedule.words, `schedule ${when}`, parsed.schedule.start);
  }
  const destination = chooseDestination(parsed, notes);
  const auth = chooseAuth(parsed, provider, named, inputs, notes);
  const { baseUrl, connectionString } = locateSource(provider, named, inputs, registry, notes);

  const generic = GENERIC_PROVIDERS.has(provider.provider);
  inputs.openapi?.warnings.forEach((w) => notes.warn(w));
  const rateLimit = provider.rateLimit;
  return {
    type: provider.type,
    provider: provider.provider,
    displayName: generic && inputs.openapi?.title !== undefined ? inputs.openapi.title : provider.displayName,
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    ...(connectionString !== undefined ? { connectionString } : {}),
    auth,
    ...(rateLimit !== undefined
      ? {
          rateLimit: {
            requestsPerSecond: rateLimit.requestsPerSecond,
            burstLimit: rateLimit.burstLimit,
            ...(rateLimit.retryAfterHeader !== undefined ? { retryAfterHeader: rateLimit.retryAfterHeader } : {}),
          },
        }
      : {}),
    suggestedEntities: entities,
    ...(allEntities !== undefined ? { allEntities: true as const } : {}),
    ...(entityEndpoints !== undefined ? { entityEndpoints } : {}),
    strategy,
    schedule,
    ...(destination !== undefined ? { destination } : {}),
    template: provider.template,
    matches: notes.matches(),
    warnings: [...new Set(notes.warnings)],
  };
}
