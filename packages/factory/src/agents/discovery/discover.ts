import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ENV_REFERENCE,
  slug,
  type Auth,
  type AuthConfig,
  type ProviderAuthMethod,
  type ProviderDefinition,
  type UpdateStrategy,
} from '@connector-factory/ir';
import { FactoryError } from '../../errors.js';
import type { ProviderRegistry } from '../../registry/provider-registry.js';
import { parseStructuredText } from '../../source-text.js';
import {
  fillPlaceholders,
  findEntities,
  hasLiteralSecret,
  withoutCredentials,
  normalise,
  parseDescription,
  redactConnection,
  typoDistance,
  unknownProviderWords,
  type AuthMention,
  type IntentMention,
  type LocationMention,
  type ParsedDescription,
  type ProviderMention,
  type UrlMention,
} from './parse-description.js';
import type { DestinationHint, DiscoveryMatch, ScheduleHint, SourceManifest, StrategyHint } from './source-manifest.js';

/** What the Discovery Agent reads: a sentence, and optionally a connection string, an OpenAPI document or a GraphQL endpoint. */
export interface DiscoverInput {
  readonly description?: string;
  /** postgresql://, postgres://, mysql://, mariadb:// (a literal password is never echoed), or an env-var reference such as `${PG_URL}`. */
  readonly connection?: string;
  /** Path (or file:// URL) of an OpenAPI 3 / Swagger 2 document, JSON or YAML. An http(s) URL is not fetched. */
  readonly openapi?: string;
  readonly graphqlEndpoint?: string;
  /**
   * Where an env-var reference in `connection` is looked up, only to learn whether its URL carries the
   * credentials (then auth.config names no separate variables); the value is never kept or printed.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** How often a source without cdc is polled when the description asks for a stream (the spec's example schedule). */
const FREQUENT_CRON = '0 */15 * * * *';
const HOURLY_CRON = '0 0 * * * *';
const NIGHTLY_CRON = '0 0 2 * * *';
const ADD_PROVIDER_HINT = 'to add one, write providers/<name>.yaml (see providers/rest.yaml)';
/** Generic providers: a named specific provider wins over them ("the Stripe REST API" is stripe). */
const GENERIC_PROVIDERS = new Set(['rest', 'graphql']);
const SCHEME_PROVIDERS: Readonly<Record<string, string>> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  pgsql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  s3: 's3',
  s3a: 's3',
  file: 'local-files',
};

/** Explanations and warnings collected along the way; matches sort by where their words stand. */
class Notes {
  private readonly placed: Array<DiscoveryMatch & { readonly order: number; readonly index: number }> = [];
  readonly warnings: string[] = [];
  /** `order`: offset in the description; command-line inputs come after the words. */
  match(words: string, meaning: string, order = Number.MAX_SAFE_INTEGER): void {
    this.placed.push({ words, meaning, order, index: this.placed.length });
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
  matches(): DiscoveryMatch[] {
    return [...this.placed]
      .sort((a, b) => a.order - b.order || a.index - b.index)
      .map(({ words, meaning }) => ({ words, meaning }));
  }
}

/** The inputs besides the words, and the structured things found inside the words. */
interface Inputs {
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
    const when = schedule.expression ?? `every ${schedule.intervalSeconds} s`;
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

async function readInputs(
  input: DiscoverInput,
  parsed: ParsedDescription,
  registry: ProviderRegistry,
  notes: Notes,
): Promise<Inputs> {
  const connectionInput = nonEmpty(input.connection);
  const openapiInput = nonEmpty(input.openapi);
  const graphqlInput = nonEmpty(input.graphqlEndpoint);
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
  if (openapiInput !== undefined) openapi = await readOpenApi(openapiInput, registry.find('rest'));
  else if (openapiUrl !== undefined) openapi = openApiFromUrl(openapiUrl.url, openapiUrl.words);
  if (graphqlInput !== undefined && !/^https?:\/\/\S+$/i.test(graphqlInput)) {
    throw new FactoryError('invalid_input', '--graphql expects the endpoint URL, e.g. https://api.example.com/graphql');
  }
  const graphqlText = parsed.urls.find((u) => u.kind === 'graphql');
  const graphqlEndpoint = graphqlInput !== undefined ? withoutCredentials(graphqlInput) : graphqlText?.url;
  if (graphqlInput !== undefined && graphqlEndpoint !== graphqlInput) {
    notes.warn('dropped the credentials from the --graphql URL: they come from env vars (auth.config)');
  }
  const sourceLocation = parsed.locations.find((l) => l.role === 'source');
  const apiUrl = parsed.urls.find((u) => u.kind === 'api');
  return {
    ...(connection !== undefined ? { connection } : {}),
    ...(connection !== undefined && connectionInput === undefined ? { connectionOrder: textConnection!.start } : {}),
    ...(openapi !== undefined ? { openapi } : {}),
    ...(openapiInput === undefined && openapiUrl !== undefined ? { openapiOrder: openapiUrl.start } : {}),
    ...(graphqlEndpoint !== undefined
      ? {
          graphqlEndpoint,
          graphqlWords: graphqlInput !== undefined ? `--graphql ${redactConnection(graphqlInput)}` : graphqlText!.words,
        }
      : {}),
    ...(graphqlInput === undefined && graphqlText !== undefined ? { graphqlOrder: graphqlText.start } : {}),
    ...(sourceLocation !== undefined ? { sourceLocation } : {}),
    ...(apiUrl !== undefined ? { apiUrl } : {}),
  };
}

/**
 * The provider: what the words say, reconciled with what the structured inputs say. A connection
 * string or OpenAPI document that contradicts the words is an error; a GraphQL endpoint wins (with a warning).
 */
function resolveProvider(
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

/** Generic providers and databases: any provider's entity names count as entity words. */
function isGenericSource(provider: ProviderDefinition): boolean {
  return GENERIC_PROVIDERS.has(provider.provider) || provider.type === 'jdbc' || provider.type === 'stream';
}

function chooseEntities(
  parsed: ParsedDescription,
  provider: ProviderDefinition,
  openapi: OpenApiFacts | undefined,
  registry: ProviderRegistry,
  notes: Notes,
): { entities: string[]; entityEndpoints?: Record<string, string>; allEntities?: string } {
  const generic = isGenericSource(provider);
  const documentEntities = openapi?.entities ?? [];
  const mentions = findEntities(parsed, provider, {
    known: documentEntities.map((e) => e.name),
    knownAs: 'a collection of the OpenAPI document',
    ...(generic ? { vocabulary: registry.list().flatMap((p) => p.entities.common) } : {}),
  });
  for (const mention of mentions) notes.match(mention.words, mention.meaning, mention.start);
  let entities = mentions.map((m) => m.name);
  if (documentEntities.length > 0) {
    const inDocument = documentEntities.map((e) => e.name);
    const missing = entities.filter((e) => !inDocument.includes(e));
    if (missing.length > 0) {
      notes.warn(
        `${missing.join(', ')}: not a collection of the OpenAPI document (it has ${inDocument.join(', ')}); left out`,
      );
    }
    entities = entities.filter((e) => inDocument.includes(e));
    if (entities.length === 0) entities = inDocument;
    const endpoints = documentEntities.filter((e) => entities.includes(e.name)).map((e) => [e.name, e.path] as const);
    return { entities, entityEndpoints: Object.fromEntries(endpoints) };
  }
  if (entities.length > 0) return { entities };
  if (!generic && (provider.type === 'rest_api' || provider.type === 'custom')) {
    entities = [...provider.entities.common];
    notes.warn(
      `no entity named: suggesting ${provider.displayName}'s common ones (${entities.join(', ')}); name the ones you want`,
    );
  } else if (provider.type === 'jdbc') {
    const all = ALL_TABLES_RE.exec(parsed.text);
    if (all !== null) {
      notes.match(all[0], 'every table of the database (the schema agent reads them all)', all.index);
      return { entities, allEntities: all[0] };
    }
    notes.warn(
      'no table named: the schema agent takes the only table there is, or asks which one (on a terminal), or lists them; name one (e.g. "the orders table") or say "all tables"',
    );
  } else {
    notes.warn(`no entity named: name the ones you want (e.g. "orders table"), or let the schema agent list them`);
  }
  return { entities };
}

/** Words that ask for every table of a database. */
const ALL_TABLES_RE =
  /\b(?:(?:all|every|each)\s+(?:of\s+)?(?:the\s+|its\s+)?tables?|(?:the\s+)?(?:whole|entire|full)\s+(?:database|db|schema)|everything)\b/i;

function chooseDestination(parsed: ParsedDescription, notes: Notes): DestinationHint | undefined {
  const destinations = parsed.locations.filter((l) => l.role === 'destination');
  let destination: DestinationHint | undefined;
  const lake = destinations[0];
  if (lake !== undefined) {
    destination = { lakePath: lake.location };
    notes.match(lake.words, `destination lakePath ${lake.location}`, lake.start);
  }
  if (destinations.length > 1) {
    notes.warn(
      `used the first destination; ignored ${destinations
        .slice(1)
        .map((d) => `"${d.words}"`)
        .join(', ')}`,
    );
  }
  if (parsed.format !== undefined) {
    destination = { ...destination, format: parsed.format.format };
    notes.match(parsed.format.words, `destination format ${parsed.format.format}`, parsed.format.start);
  }
  return destination;
}

function chooseAuth(
  parsed: ParsedDescription,
  provider: ProviderDefinition,
  named: NamedProvider | undefined,
  inputs: Inputs,
  notes: Notes,
): Auth {
  let auth: Auth;
  if (inputs.openapi?.auth !== undefined && GENERIC_PROVIDERS.has(provider.provider)) {
    auth = inputs.openapi.auth;
  } else {
    const method = chooseAuthMethod(provider, parsed.auth, notes);
    auth = authFor(provider, method, parsed.auth?.roleArn, named?.placeholders ?? {}, notes);
    if (parsed.auth !== undefined) notes.match(parsed.auth.words, `auth ${auth.method}`, parsed.auth.start);
  }
  const { connection } = inputs;
  if (connection === undefined) return auth;
  const credentials = connection.carriesCredentials && provider.type === 'jdbc';
  if (credentials) auth = { method: auth.method, config: {} };
  const meaning = [
    connection.provider !== undefined ? `provider ${provider.provider} (${connection.via})` : undefined,
    `connectionString ${connection.reference}`,
    credentials ? 'credentials travel inside it, so auth.config names none' : undefined,
  ];
  notes.match(connection.words, meaning.filter((part) => part !== undefined).join('; '), inputs.connectionOrder);
  return auth;
}

/** Where the source is: its base URL (APIs) or connection-string reference (databases, brokers, files). */
function locateSource(
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

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function envPrefix(provider: ProviderDefinition): string {
  return provider.provider.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

// ---------------------------------------------------------------------------------------------------
// Providers from the words

interface NamedProvider {
  readonly provider: ProviderDefinition;
  readonly words: string;
  readonly baseUrl?: string;
  readonly placeholders?: Readonly<Record<string, string>>;
  /** "Receive Stripe webhooks": the provider whose events a webhook receives. */
  readonly sender?: ProviderMention;
}

function distinctProviders(mentions: readonly ProviderMention[]): ProviderMention[] {
  const seen = new Set<string>();
  return mentions.filter((m) => {
    if (seen.has(m.provider.provider)) return false;
    seen.add(m.provider.provider);
    return true;
  });
}

function ambiguity(candidates: ReadonlyArray<{ provider: ProviderDefinition; words: string }>): FactoryError {
  const names = candidates.map((c) => c.provider.provider);
  return new FactoryError(
    'invalid_input',
    `the description names ${candidates.length} providers (${names.join(', ')}); say which one is the source`,
    candidates.map((c) => `candidate: ${c.provider.provider} (${c.provider.displayName}), from "${c.words}"`),
  );
}

/**
 * The one provider the words name. Exact names and aliases beat typos; a specific provider beats the
 * generic rest/graphql ones; a webhook beats the SaaS that sends it. Two left: an ambiguity error.
 */
function providerFromText(parsed: ParsedDescription, notes: Notes): NamedProvider | undefined {
  const exact = parsed.providers.filter((m) => m.how !== 'typo');
  const typos = parsed.providers.filter((m) => m.how === 'typo');
  let pool: ProviderMention[];
  if (exact.length > 0) {
    pool = distinctProviders(exact);
    const exactNames = new Set(pool.map((m) => m.provider.provider));
    for (const typo of typos) {
      if (!exactNames.has(typo.provider.provider)) {
        notes.warn(
          `ignored "${typo.words}" (close to ${typo.provider.provider}): ${[...exactNames].join(', ')} is named exactly`,
        );
      }
    }
  } else {
    const best = Math.min(...typos.map((t) => t.distance));
    pool = distinctProviders(typos.filter((t) => t.distance === best));
  }
  if (pool.length === 0) return undefined;
  let sender: ProviderMention | undefined;
  const webhook = pool.find((m) => m.provider.template === 'webhook');
  if (webhook !== undefined && pool.length === 2) {
    const other = pool.find((m) => m !== webhook)!;
    if (other.provider.type === 'rest_api' && !GENERIC_PROVIDERS.has(other.provider.provider)) {
      sender = other;
      pool = [webhook];
    }
  }
  const specific = pool.filter((m) => !GENERIC_PROVIDERS.has(m.provider.provider));
  if (specific.length > 0 && specific.length < pool.length) {
    for (const dropped of pool.filter((m) => GENERIC_PROVIDERS.has(m.provider.provider))) {
      notes.warn(
        `"${dropped.words}" did not change the provider: ${specific.map((m) => m.provider.displayName).join(', ')} has its own registry entry (${specific.map((m) => m.provider.type).join(', ')})`,
      );
    }
    pool = specific;
  }
  if (pool.length > 1) throw ambiguity(pool.map((m) => ({ provider: m.provider, words: m.words })));
  const chosen = pool[0]!;
  const host = parsed.providers.find((m) => m.provider === chosen.provider && m.baseUrl !== undefined);
  return {
    provider: chosen.provider,
    words: chosen.words,
    ...(host?.baseUrl !== undefined ? { baseUrl: host.baseUrl } : {}),
    ...(host?.placeholders !== undefined ? { placeholders: host.placeholders } : {}),
    ...(sender !== undefined ? { sender } : {}),
  };
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

/** The providers nearest to a word, by edit distance to their names and aliases. */
export function closestProviders(word: string, registry: ProviderRegistry, count = 3): string[] {
  const target = normalise(word);
  return registry
    .list()
    .map((p) => ({
      name: p.provider,
      distance: Math.min(...[p.provider, ...p.aliases].map((k) => typoDistance(target, normalise(k)))),
    }))
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name))
    .slice(0, count)
    .map((p) => p.name);
}

function unknownProvider(parsed: ParsedDescription, registry: ProviderRegistry): FactoryError {
  const guess = unknownProviderWords(parsed, registry)[0];
  const all = registry.list().map((p) => p.provider);
  if (guess === undefined) {
    return new FactoryError('not_found', `the description names no provider the registry knows; ${ADD_PROVIDER_HINT}`, [
      `providers: ${all.join(', ')}`,
    ]);
  }
  const closest = closestProviders(guess, registry);
  const name =
    guess
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'name';
  return new FactoryError(
    'not_found',
    `unknown provider "${guess}"; the closest are ${closest.join(', ')}; to add one, write providers/${name}.yaml (see providers/rest.yaml)`,
    [`providers: ${all.join(', ')}`],
  );
}

// ---------------------------------------------------------------------------------------------------
// Connection strings

interface ConnectionFacts {
  readonly provider?: ProviderDefinition;
  /** How the provider was read from it. */
  readonly via: string;
  /** What goes into the manifest: an env-var reference, or a file location. */
  readonly reference: string;
  /** Printable form (password replaced). */
  readonly words: string;
  /** User name or password inside the string, so auth.config need not name them. */
  readonly carriesCredentials: boolean;
  readonly exportHint?: string;
}

/**
 * Reads a connection string or env-var reference. A literal database URL becomes a reference to an env
 * var (it may hold a password, and always holds a host), with a hint to export it; the literal is
 * never returned, and its password never printed.
 */
function readConnection(
  raw: string,
  registry: ProviderRegistry,
  words: string,
  env: Readonly<Record<string, string | undefined>> = {},
): ConnectionFacts {
  const bare = /^\$?([A-Za-z_][A-Za-z0-9_]*)$/.exec(raw);
  const reference = ENV_REFERENCE.test(raw)
    ? raw
    : bare && /^[A-Z_][A-Z0-9_]*$/.test(bare[1]!)
      ? `\${${bare[1]}}`
      : undefined;
  if (reference !== undefined) {
    const name = reference.slice(2, -1);
    const provider = providerFromVariableName(name, registry);
    const value = env[name];
    return {
      ...(provider !== undefined ? { provider } : {}),
      via: `from the variable name ${name}`,
      reference,
      words,
      carriesCredentials: value !== undefined && /^[a-z][a-z0-9+.-]*:\/\/[^/?#@]*@/i.test(value),
    };
  }
  const url = raw.replace(/^jdbc:/i, '');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new FactoryError(
      'invalid_input',
      'the connection is neither a URL (postgresql://…, mysql://…) nor an env-var reference such as ${PG_URL}',
    );
  }
  const base = scheme.split('+')[0]!;
  const providerName = SCHEME_PROVIDERS[base];
  const provider = providerName !== undefined ? registry.find(providerName) : registry.find(base);
  if (provider === undefined) {
    const closest = closestProviders(base, registry);
    throw new FactoryError(
      'not_found',
      `no provider reads ${base}:// connection strings; the closest are ${closest.join(', ')}; to add one, write providers/${slug(base).replace(/_/g, '-')}.yaml (see providers/rest.yaml)`,
    );
  }
  const secret = hasLiteralSecret(url);
  const via = `scheme ${base}://`;
  if (provider.type === 'file' && !secret) return { provider, via, reference: url, words, carriesCredentials: false };
  const variable = `${envPrefix(provider)}_CONNECTION_STRING`;
  const shown = redactConnection(url)
    .replace(':***@', ':<password>@')
    .replace(/=\*\*\*/g, '=<secret>');
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url);
  return {
    provider,
    via,
    reference: `\${${variable}}`,
    words,
    carriesCredentials: userinfo || secret,
    exportHint: secret
      ? `the connection string holds a password, so it is not kept: export ${variable}='${shown}' (with the real password) and the manifest refers to \${${variable}}`
      : `the connection string is not kept in the manifest: export ${variable}='${url}' and the manifest refers to \${${variable}}`,
  };
}

/** PG_URL → postgres, MYSQL_DSN → mysql, KAFKA_BROKERS → kafka; undefined when the name says nothing. */
function providerFromVariableName(name: string, registry: ProviderRegistry): ProviderDefinition | undefined {
  const parts = name.toLowerCase().split('_').filter(Boolean);
  for (let n = Math.min(3, parts.length); n >= 1; n--) {
    for (let i = 0; i + n <= parts.length; i++) {
      const found = registry.find(parts.slice(i, i + n).join(''));
      if (found !== undefined && !GENERIC_PROVIDERS.has(found.provider)) return found;
    }
  }
  return undefined;
}

/** `${POSTGRES_CONNECTION_STRING}` for databases; other templates get a variable per placeholder. */
function defaultConnectionReference(provider: ProviderDefinition): string {
  const template = provider.connectionString!;
  if (provider.type === 'jdbc') return `\${${envPrefix(provider)}_CONNECTION_STRING}`;
  return template.replace(/\{(\w+)\}/g, (_whole, name: string) => `\${${envPrefix(provider)}_${name.toUpperCase()}}`);
}

// ---------------------------------------------------------------------------------------------------
// Auth

const TOKEN_METHODS: readonly ProviderAuthMethod[] = ['bearer', 'api_key'];

function chooseAuthMethod(
  provider: ProviderDefinition,
  requested: AuthMention | undefined,
  notes: Notes,
): ProviderAuthMethod {
  const fallback = provider.auth.defaultMethod;
  if (requested === undefined) return fallback;
  const offered: ProviderAuthMethod[] = [fallback, ...(provider.auth.methods ?? [])];
  if (requested.method === 'token') {
    if (TOKEN_METHODS.includes(fallback)) return fallback;
    if (fallback === 'basic' && /TOKEN/.test(provider.auth.basic?.passwordEnvVar ?? '')) return fallback;
    const token = offered.find((m) => TOKEN_METHODS.includes(m));
    if (token !== undefined) return token;
  } else if (requested.method === 'basic' && offered.includes('sasl_ssl')) {
    return 'sasl_ssl';
  } else if (offered.includes(requested.method)) {
    return requested.method;
  }
  notes.warn(
    `${provider.displayName} does not take "${requested.words}" (it offers ${offered.join(', ')}); using ${fallback}`,
  );
  return fallback;
}

/** IR auth for a provider method: env-var names from the registry; SASL/SSL becomes basic. */
function authFor(
  provider: ProviderDefinition,
  method: ProviderAuthMethod,
  roleArn: string | undefined,
  placeholders: Readonly<Record<string, string>>,
  notes: Notes,
): Auth {
  const prefix = envPrefix(provider);
  const a = provider.auth;
  switch (method) {
    case 'oauth2': {
      const oauth = a.oauth2;
      const config: AuthConfig = {
        ...(oauth?.tokenUrl !== undefined ? { tokenUrl: fillPlaceholders(oauth.tokenUrl, placeholders) } : {}),
        clientIdEnvVar: oauth?.clientIdEnvVar ?? `${prefix}_CLIENT_ID`,
        clientSecretEnvVar: oauth?.clientSecretEnvVar ?? `${prefix}_CLIENT_SECRET`,
        scopes: [...(oauth?.scopes ?? [])],
      };
      if (config.tokenUrl === undefined) notes.warn(`${provider.displayName} names no OAuth2 tokenUrl: add it`);
      return { method, config };
    }
    case 'api_key':
      return {
        method,
        config: {
          headerName: a.api_key?.headerName ?? 'X-API-Key',
          apiKeyEnvVar: a.api_key?.apiKeyEnvVar ?? `${prefix}_API_KEY`,
        },
      };
    case 'bearer':
      return { method, config: { tokenEnvVar: a.bearer?.tokenEnvVar ?? `${prefix}_TOKEN` } };
    case 'basic':
      return {
        method,
        config: {
          usernameEnvVar: a.basic?.usernameEnvVar ?? `${prefix}_USERNAME`,
          passwordEnvVar: a.basic?.passwordEnvVar ?? `${prefix}_PASSWORD`,
        },
      };
    case 'sasl_ssl':
      return {
        method: 'basic',
        config: {
          usernameEnvVar: a.sasl_ssl?.usernameEnvVar ?? `${prefix}_USERNAME`,
          passwordEnvVar: a.sasl_ssl?.passwordEnvVar ?? `${prefix}_PASSWORD`,
        },
      };
    case 'iam':
      if (roleArn !== undefined) return { method, config: { roleArn } };
      notes.warn(
        `auth iam: set source.auth.config.roleArn to the role to assume${a.iam?.roleArnEnvVar !== undefined ? ` (the connector can also read it from ${a.iam.roleArnEnvVar})` : ''}, or leave it out to use the default AWS credential chain`,
      );
      return { method, config: {} };
    case 'none':
      return { method, config: {} };
  }
}

// ---------------------------------------------------------------------------------------------------
// Strategy and schedule

function incrementalKeyFor(provider: ProviderDefinition, entities: readonly string[]): string | undefined {
  const only = entities.length === 1 ? entities[0]! : undefined;
  return (
    (only !== undefined ? provider.entities.incrementalFields?.[only] : undefined) ?? provider.entities.incrementalField
  );
}

function quoteWords(intent: IntentMention): string {
  return `"${intent.words}"`;
}

function decideStrategy(
  provider: ProviderDefinition,
  intents: readonly IntentMention[],
  entities: readonly string[],
  openapi: OpenApiFacts | undefined,
  notes: Notes,
): { strategy: StrategyHint; streamFallback: boolean } {
  const name = provider.displayName;
  const documented = openapi?.entities.filter((e) => entities.includes(e.name)) ?? [];
  const filtered = documented.filter((e) => e.incrementalParam !== undefined);
  const supports = (s: UpdateStrategy) =>
    openapi !== undefined && s === 'incremental' ? filtered.length > 0 : provider.strategies.includes(s);
  const stream = intents.find((i) => i.intent === 'stream');
  const changes = intents.find((i) => i.intent === 'stream' && i.changes);
  const incremental = intents.find((i) => i.intent === 'incremental');
  const full = intents.find((i) => i.intent === 'full_refresh');
  const key =
    openapi !== undefined ? filtered.find((e) => e.cursorField)?.cursorField : incrementalKeyFor(provider, entities);
  const unfiltered = documented.filter((e) => e.incrementalParam === undefined).map((e) => e.name);
  const incrementalHint = (reason: string): StrategyHint => ({
    updateStrategy: 'incremental',
    reason,
    ...(key !== undefined ? { incrementalKey: key } : {}),
  });
  const on = key !== undefined ? ` on ${key}` : '';
  const cdcFeature = provider.features?.find((f) => /^cdc\b/i.test(f));
  const fallbackFrom = (asked: string, wanted: UpdateStrategy): StrategyHint => {
    const offered = provider.strategies.join(', ');
    if (supports('incremental')) {
      notes.warn(`${name} does not offer ${wanted} (it offers ${offered}); ${asked} is read as incremental`);
      return incrementalHint(`${asked} asks for ${wanted}, which ${name} does not offer: incremental${on} instead`);
    }
    notes.warn(`${name} does not offer ${wanted} (it offers ${offered}); using full_refresh`);
    return { updateStrategy: 'full_refresh', reason: `${asked} asks for ${wanted}, which ${name} does not offer` };
  };

  if (provider.type === 'stream') {
    if (changes !== undefined && supports('cdc')) {
      return {
        strategy: {
          updateStrategy: 'cdc',
          reason: `${quoteWords(changes)} asks for change events: ${name} topics of Debezium-style change events are applied as cdc`,
        },
        streamFallback: false,
      };
    }
    if (full !== undefined) notes.warn(`${name} is read by offset and has no full refresh; reading incrementally`);
    return {
      strategy: incrementalHint(
        `${name} is consumed continuously by offset${stream !== undefined ? ` (${quoteWords(stream)})` : ''}`,
      ),
      streamFallback: false,
    };
  }
  if (provider.template === 'webhook') {
    if (full !== undefined || changes !== undefined) {
      notes.warn(
        `a webhook receiver only appends the events it is sent; ${quoteWords((full ?? changes)!)} does not apply`,
      );
    }
    return {
      strategy: incrementalHint('webhook events arrive one at a time and are appended as they come'),
      streamFallback: false,
    };
  }
  if (stream !== undefined) {
    const snapshotNote = full !== undefined ? ` (cdc starts from a snapshot, which covers ${quoteWords(full)})` : '';
    if (supports('cdc')) {
      return {
        strategy: {
          updateStrategy: 'cdc',
          reason: `${quoteWords(stream)} asks for changes as they happen; ${name} supports ${cdcFeature ?? 'cdc'}${snapshotNote}`,
        },
        streamFallback: false,
      };
    }
    const cdcNote = provider.features?.find((f) => /change data capture/i.test(f));
    notes.warn(
      `${name} cannot stream changes here (its registry entry offers ${provider.strategies.join(', ')}): the connector polls every 15 minutes instead${cdcNote !== undefined ? ` (${cdcNote})` : ''}`,
    );
    if (supports('incremental')) {
      return {
        strategy: incrementalHint(
          `${quoteWords(stream)} asks for changes as they happen, but ${name} offers no cdc: frequent incremental polling${on}`,
        ),
        streamFallback: true,
      };
    }
    return {
      strategy: {
        updateStrategy: 'full_refresh',
        reason: `${quoteWords(stream)} asks for changes as they happen, but ${name} offers neither cdc nor incremental`,
      },
      streamFallback: true,
    };
  }
  if (incremental !== undefined) {
    if (!supports('incremental'))
      return { strategy: fallbackFrom(quoteWords(incremental), 'incremental'), streamFallback: false };
    const fullNote = full !== undefined ? ` (after a first full load, which covers ${quoteWords(full)})` : '';
    return {
      strategy: incrementalHint(
        `${quoteWords(incremental)} asks for new and changed records only${on ? `, cursor${on.slice(3)}` : ''}${fullNote}`,
      ),
      streamFallback: false,
    };
  }
  if (full !== undefined) {
    if (!provider.strategies.includes('full_refresh')) {
      return { strategy: fallbackFrom(quoteWords(full), 'full_refresh'), streamFallback: false };
    }
    return {
      strategy: { updateStrategy: 'full_refresh', reason: `${quoteWords(full)} asks for a full copy on every run` },
      streamFallback: false,
    };
  }
  if (openapi !== undefined) {
    if (filtered.length > 0) {
      if (unfiltered.length > 0) {
        notes.warn(
          `${unfiltered.join(', ')}: no updated-since filter in the OpenAPI document, so read in full on every run`,
        );
      }
      return {
        strategy: incrementalHint(
          `the OpenAPI document filters ${filtered.map((e) => `GET ${e.path} by ${e.incrementalParam}`).join(', ')}`,
        ),
        streamFallback: false,
      };
    }
    return {
      strategy: {
        updateStrategy: 'full_refresh',
        reason: 'no collection of the OpenAPI document takes an updated-since filter, so each run reads everything',
      },
      streamFallback: false,
    };
  }
  if (supports('incremental') && key !== undefined) {
    return {
      strategy: incrementalHint(
        `no update strategy named: incremental${on} is the cheapest ${name} offers (say "full refresh" or "stream changes" otherwise)`,
      ),
      streamFallback: false,
    };
  }
  return {
    strategy: {
      updateStrategy: provider.strategies.includes('full_refresh') ? 'full_refresh' : provider.strategies[0]!,
      reason: `no update strategy named: ${name} offers ${provider.strategies.join(', ')}`,
    },
    streamFallback: false,
  };
}

/**
 * The cursor column the words name ("incremental on modified_at", "using modified_at as the cursor",
 * "by modified_at") is the incremental key; naming one without another strategy asks for incremental.
 * The schema agent checks it against the table's columns.
 */
function withNamedCursor(
  strategy: StrategyHint,
  parsed: ParsedDescription,
  provider: ProviderDefinition,
  notes: Notes,
): StrategyHint {
  const cursor = parsed.cursor;
  if (cursor === undefined) return strategy;
  const explicit = parsed.intents.some((i) => i.intent !== 'incremental');
  if (strategy.updateStrategy !== 'incremental' && (explicit || !provider.strategies.includes('incremental'))) {
    notes.match(
      cursor.words,
      `cursor column ${cursor.column}, not used: ${strategy.updateStrategy} needs no cursor`,
      cursor.start,
    );
    notes.warn(
      `"${cursor.words}" names a cursor, but the connector uses ${strategy.updateStrategy}; the cursor is not used`,
    );
    return strategy;
  }
  notes.match(
    cursor.words,
    `cursor column ${cursor.column} (incrementalKey; checked against the table's columns)`,
    cursor.start,
  );
  const asked = parsed.intents.find((i) => i.intent === 'incremental');
  const reason =
    asked !== undefined
      ? `${quoteWords(asked)} asks for new and changed records only, cursor ${cursor.column} (as named)`
      : `"${cursor.words}" names a cursor column: incremental on ${cursor.column}`;
  return { updateStrategy: 'incremental', reason, incrementalKey: cursor.column, namedCursor: cursor.column };
}

function describeIntent(intent: IntentMention, strategy: StrategyHint): string {
  const kind =
    intent.intent === 'stream' ? (intent.changes ? 'change capture' : 'streaming') : intent.intent.replace('_', ' ');
  return `${kind} intent → updateStrategy ${strategy.updateStrategy}`;
}

function decideSchedule(
  provider: ProviderDefinition,
  strategy: StrategyHint,
  parsed: ParsedDescription,
  streamFallback: boolean,
  sender: ProviderDefinition | undefined,
  notes: Notes,
): ScheduleHint {
  if (provider.template === 'webhook') {
    const eventSource = `/webhooks/${sender?.provider ?? 'events'}`;
    if (parsed.schedule !== undefined) {
      notes.warn(`a webhook receiver runs when events arrive; ignored "${parsed.schedule.words}"`);
    }
    return {
      type: 'event',
      eventSource,
      reason: `a webhook receiver runs when ${sender?.displayName ?? 'the sender'} posts an event to ${eventSource}`,
    };
  }
  if (parsed.schedule !== undefined) return { ...parsed.schedule.spec, reason: parsed.schedule.reason };
  if (strategy.updateStrategy === 'cdc') {
    return {
      type: 'continuous',
      reason: `cdc runs continuously, applying changes as ${provider.displayName} records them`,
    };
  }
  if (provider.type === 'stream') {
    return { type: 'continuous', reason: `a ${provider.displayName} consumer runs continuously` };
  }
  if (streamFallback) {
    const stream = parsed.intents.find((i) => i.intent === 'stream')!;
    return {
      type: 'cron',
      expression: FREQUENT_CRON,
      reason: `${quoteWords(stream)} without cdc: poll every 15 minutes, the spec's schedule for near-real-time API sources`,
    };
  }
  if (strategy.updateStrategy === 'full_refresh') {
    return {
      type: 'cron',
      expression: NIGHTLY_CRON,
      reason: 'no schedule named: daily at 02:00, since a full refresh re-reads everything',
    };
  }
  return {
    type: 'cron',
    expression: HOURLY_CRON,
    reason: 'no schedule named: hourly, a common pace for incremental syncs',
  };
}

// ---------------------------------------------------------------------------------------------------
// OpenAPI documents

interface OpenApiEntity {
  readonly name: string;
  readonly path: string;
  /** A query parameter that filters by modification time (updated_since, modified_after, …). */
  readonly incrementalParam?: string;
  /** The item field that filter works on, when the response schema shows it (updated_at, modified_at, …). */
  readonly cursorField?: string;
}

interface OpenApiFacts {
  readonly words: string;
  readonly title?: string;
  readonly baseUrl?: string;
  readonly auth?: Auth;
  readonly entities: readonly OpenApiEntity[];
  readonly warnings: readonly string[];
  readonly summary: (provider: ProviderDefinition) => string;
}

type Json = Readonly<Record<string, unknown>>;
const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const obj = (value: unknown): Json => (isObject(value) ? value : {});
const arr = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

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

function openApiFromUrl(url: string, words: string): OpenApiFacts {
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

/** Reads an OpenAPI 3 or Swagger 2 document from a file: base URL, auth, collection endpoints, incremental filters. */
async function readOpenApi(location: string, rest: ProviderDefinition | undefined): Promise<OpenApiFacts> {
  if (/^https?:\/\//i.test(location)) {
    return openApiFromUrl(withoutCredentials(location), `--openapi ${redactConnection(location)}`);
  }
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

  // Base URL.
  let baseUrl: string | undefined;
  if (swagger2) {
    const scheme = str(arr(doc.schemes)[0]) ?? 'https';
    const host = str(doc.host);
    baseUrl = `${scheme}://${host ?? '{host}'}${str(doc.basePath) ?? ''}`.replace(/\/+$/, '');
  } else {
    const server = obj(arr(doc.servers)[0]);
    const url = str(server.url);
    if (url !== undefined) {
      const variables = obj(server.variables);
      const filled = url.replace(/\{(\w+)\}/g, (whole, name: string) => str(obj(variables[name]).default) ?? whole);
      baseUrl = filled.startsWith('/') ? `https://{host}${filled}` : filled;
      baseUrl = baseUrl.replace(/\/+$/, '');
      if (filled.startsWith('/')) warnings.push(`${file}: servers[0].url is relative (${url}); fill in {host}`);
    }
  }

  // Auth from the security scheme the document applies (or its first one).
  const schemes = obj(swagger2 ? doc.securityDefinitions : obj(doc.components).securitySchemes);
  const applied = Object.keys(obj(arr(doc.security)[0])).find((name) => schemes[name] !== undefined);
  const schemeName = applied ?? Object.keys(schemes)[0];
  let auth: Auth | undefined;
  let authWords = 'no security scheme: auth none';
  if (schemeName === undefined) {
    auth = { method: 'none', config: {} };
  } else {
    const scheme = obj(resolve(schemes[schemeName]));
    const result = authFromScheme(scheme, schemeName, swagger2, baseUrl, rest, warnings, file);
    auth = result;
    authWords = `security scheme "${schemeName}": auth ${result.method}`;
  }

  // Collections: GET endpoints without path parameters that return a list.
  const entities: OpenApiEntity[] = [];
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
  const incremental = entities.filter((e) => e.incrementalParam !== undefined);
  if (entities.length === 0)
    warnings.push(`${file}: no collection GET endpoint found (GET paths without {parameters} that return a list)`);

  const title = str(obj(doc.info).title);
  const words = `--openapi ${location}`;
  return {
    words,
    ...(title !== undefined ? { title } : {}),
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    ...(auth !== undefined ? { auth } : {}),
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

function authFromScheme(
  scheme: Json,
  name: string,
  swagger2: boolean,
  baseUrl: string | undefined,
  rest: ProviderDefinition | undefined,
  warnings: string[],
  file: string,
): Auth {
  const a = rest?.auth;
  const type = str(scheme.type);
  const httpScheme = str(scheme.scheme)?.toLowerCase();
  if (type === 'apiKey') {
    const where = str(scheme.in) ?? 'header';
    const headerName = str(scheme.name) ?? a?.api_key?.headerName ?? 'X-API-Key';
    if (where !== 'header') {
      warnings.push(
        `${file}: security scheme "${name}" sends the key in the ${where} parameter ${headerName}; the connector sends it as a header of that name, check the API accepts that`,
      );
    }
    return { method: 'api_key', config: { headerName, apiKeyEnvVar: a?.api_key?.apiKeyEnvVar ?? 'REST_API_KEY' } };
  }
  if ((type === 'http' && httpScheme === 'basic') || (swagger2 && type === 'basic')) {
    return {
      method: 'basic',
      config: {
        usernameEnvVar: a?.basic?.usernameEnvVar ?? 'REST_API_USERNAME',
        passwordEnvVar: a?.basic?.passwordEnvVar ?? 'REST_API_PASSWORD',
      },
    };
  }
  if (type === 'oauth2') {
    let flow: Json;
    let flowName: string;
    if (swagger2) {
      flowName = str(scheme.flow) ?? 'application';
      flow = scheme;
    } else {
      const flows = obj(scheme.flows);
      flowName =
        ['clientCredentials', 'authorizationCode', 'password'].find((f) => isObject(flows[f])) ?? 'clientCredentials';
      flow = obj(flows[flowName]);
    }
    if (flowName !== 'clientCredentials' && flowName !== 'application') {
      warnings.push(
        `${file}: security scheme "${name}" offers the OAuth2 ${flowName} flow only; an unattended connector needs client credentials (or a stored refresh token)`,
      );
    }
    let tokenUrl = str(flow.tokenUrl);
    if (tokenUrl !== undefined && !/^https?:\/\//i.test(tokenUrl) && baseUrl !== undefined && !/\{/.test(baseUrl)) {
      tokenUrl = new URL(tokenUrl, `${baseUrl}/`).toString();
    }
    if (tokenUrl === undefined) warnings.push(`${file}: security scheme "${name}" names no tokenUrl`);
    return {
      method: 'oauth2',
      config: {
        ...(tokenUrl !== undefined ? { tokenUrl } : {}),
        clientIdEnvVar: a?.oauth2?.clientIdEnvVar ?? 'REST_API_CLIENT_ID',
        clientSecretEnvVar: a?.oauth2?.clientSecretEnvVar ?? 'REST_API_CLIENT_SECRET',
        scopes: Object.keys(obj(flow.scopes)),
      },
    };
  }
  if (!(type === 'http' && httpScheme === 'bearer')) {
    warnings.push(
      `${file}: security scheme "${name}" (${type ?? 'no type'}${httpScheme !== undefined ? ` ${httpScheme}` : ''}) is read as a bearer token`,
    );
  }
  return { method: 'bearer', config: { tokenEnvVar: a?.bearer?.tokenEnvVar ?? 'REST_API_TOKEN' } };
}
