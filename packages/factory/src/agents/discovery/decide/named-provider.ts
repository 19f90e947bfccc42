import type { ProviderDefinition } from '@connector-factory/ir';
import { FactoryError } from '../../../errors.js';
import type { ParsedDescription, ProviderMention } from '../description/mentions.js';
import type { Notes } from '../notes.js';
import { GENERIC_PROVIDERS } from '../provider-names.js';

export interface NamedProvider {
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

export function ambiguity(candidates: ReadonlyArray<{ provider: ProviderDefinition; words: string }>): FactoryError {
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
export function providerFromText(parsed: ParsedDescription, notes: Notes): NamedProvider | undefined {
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
