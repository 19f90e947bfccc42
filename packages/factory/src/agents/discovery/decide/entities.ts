import type { ProviderDefinition } from '@connector-factory/ir';
import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import { findEntities } from '../description/entity-phrases.js';
import type { ParsedDescription } from '../description/mentions.js';
import type { OpenApiFacts } from '../inputs/openapi.js';
import type { Notes } from '../notes.js';
import { GENERIC_PROVIDERS } from '../provider-names.js';

/** Generic providers and databases: any provider's entity names count as entity words. */
function isGenericSource(provider: ProviderDefinition): boolean {
  return GENERIC_PROVIDERS.has(provider.provider) || provider.type === 'jdbc' || provider.type === 'stream';
}

/**
 * The entities to read: those the words name (for a document source, only its collections; none named
 * is all of them), else a SaaS provider's common ones, else every table when the words say so.
 */
export function chooseEntities(
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
