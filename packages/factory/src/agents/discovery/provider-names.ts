import type { ProviderDefinition } from '@connector-factory/ir';
import { normalise } from '../../normalise.js';
import type { ProviderRegistry } from '../../registry/provider-registry.js';
import { editDistance } from '@connector-factory/ir';

/** Generic providers: a named specific provider wins over them ("the Stripe REST API" is stripe). */
export const GENERIC_PROVIDERS = new Set(['rest', 'graphql']);

/** The provider's name as an env-var prefix: `google-sheets` → GOOGLE_SHEETS. */
export function envPrefix(provider: ProviderDefinition): string {
  return provider.provider.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** The providers nearest to a word, by edit distance to their names and aliases. */
export function closestProviders(word: string, registry: ProviderRegistry, count = 3): string[] {
  const target = normalise(word);
  return registry
    .list()
    .map((p) => ({
      name: p.provider,
      distance: Math.min(...[p.provider, ...p.aliases].map((k) => editDistance(target, normalise(k)))),
    }))
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name))
    .slice(0, count)
    .map((p) => p.name);
}
