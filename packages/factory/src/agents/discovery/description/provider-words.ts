import { normalise } from '../../../normalise.js';
import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import type { ProviderMention } from './mentions.js';
import type { Token } from './tokens.js';
import { editDistance } from '@connector-factory/ir';
import { typoReach } from './typos.js';
import { ENTITY_KEYWORDS, NEAR_MISSES, STOP_WORDS } from './vocabulary.js';

/** Provider names, aliases and typos among the words no phrase claimed. */

/** "rest" is a provider only as "REST" or before api/endpoint/service ("the rest of the tables" is not). */
function restInContext(tokens: readonly Token[], index: number): boolean {
  const token = tokens[index]!;
  if (token.text === 'REST') return true;
  return /^(apis?|endpoints?|services?|interface)$/.test(tokens[index + 1]?.norm ?? '');
}

/** Finds provider names, aliases and typos among the tokens; returns the indexes of the tokens used. */
export function matchProviders(
  text: string,
  tokens: readonly Token[],
  registry: ProviderRegistry,
  out: ProviderMention[],
): Set<number> {
  const used = new Set<number>();
  const keys = registry.keys();
  const mention = (from: number, count: number, how: ProviderMention['how'], key: string, distance: number) => {
    const first = tokens[from]!;
    const last = tokens[from + count - 1]!;
    const provider = registry.find(key)!;
    for (let k = from; k < from + count; k++) used.add(k);
    out.push({
      provider,
      how: how === 'alias' && normalise(provider.provider) === key ? 'name' : how,
      key,
      distance,
      words: text.slice(first.start, last.end),
      start: first.start,
    });
  };
  const runKey = (from: number, count: number): string | undefined => {
    if (from + count > tokens.length) return undefined;
    for (let k = from; k < from + count; k++) {
      if (used.has(k) || (k > from && !tokens[k]!.adjacent)) return undefined;
    }
    return tokens
      .slice(from, from + count)
      .map((t) => t.norm)
      .join('');
  };
  // Exact names and aliases, longest first ("amazon simple storage service" before "amazon s3").
  for (let i = 0; i < tokens.length; i++) {
    for (let n = 4; n >= 1; n--) {
      const key = runKey(i, n);
      if (key === undefined || key === '') continue;
      if (registry.find(key) === undefined) continue;
      if (key === 'rest' && !restInContext(tokens, i)) continue;
      // "orders kafka topic": take "kafka" and leave "topic" to mark the entity.
      const shorter = n > 1 ? runKey(i, n - 1) : undefined;
      if (shorter !== undefined && ENTITY_KEYWORDS.has(tokens[i + n - 1]!.norm) && registry.find(shorter) !== undefined)
        continue;
      mention(i, n, 'alias', key, 0);
      i += n - 1;
      break;
    }
  }
  // Typos: two adjacent words first ("sales froce"), then single words.
  const typo = (candidate: string): { key: string; distance: number } | undefined => {
    if (candidate.length < 4 || /^\d/.test(candidate)) return undefined;
    const reach = typoReach(candidate.length);
    let best: { key: string; distance: number } | undefined;
    for (const key of keys) {
      if (key.length < 4 || key === 'rest' || key[0] !== candidate[0]) continue;
      const distance = editDistance(candidate, key);
      if (distance > 0 && distance <= reach && (best === undefined || distance < best.distance))
        best = { key, distance };
    }
    return best;
  };
  const fuzzyAllowed = (token: Token) =>
    !STOP_WORDS.has(token.text.toLowerCase()) && !NEAR_MISSES.has(token.text.toLowerCase());
  for (let i = 0; i + 1 < tokens.length; i++) {
    const key = runKey(i, 2);
    if (key === undefined || NEAR_MISSES.has(key) || !fuzzyAllowed(tokens[i]!) || !fuzzyAllowed(tokens[i + 1]!))
      continue;
    const hit = typo(key);
    if (hit && typo(tokens[i]!.norm) === undefined && typo(tokens[i + 1]!.norm) === undefined) {
      mention(i, 2, 'typo', hit.key, hit.distance);
      i++;
    }
  }
  for (let i = 0; i < tokens.length; i++) {
    if (used.has(i) || !fuzzyAllowed(tokens[i]!)) continue;
    const hit = typo(tokens[i]!.norm);
    if (hit) mention(i, 1, 'typo', hit.key, hit.distance);
  }
  return used;
}
