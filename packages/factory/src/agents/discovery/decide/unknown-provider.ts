import { FactoryError } from '../../../errors.js';
import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import type { ParsedDescription } from '../description/mentions.js';
import { unknownProviderWords } from '../description/unknown-provider-words.js';
import { closestProviders } from '../provider-names.js';

const ADD_PROVIDER_HINT = 'to add one, write providers/<name>.yaml (see providers/rest.yaml)';

/** The error for words that name no registry provider: the likeliest name, the closest providers, how to add one. */
export function unknownProvider(parsed: ParsedDescription, registry: ProviderRegistry): FactoryError {
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
