import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import { entityForms } from './entity-forms.js';
import type { ParsedDescription } from './mentions.js';
import type { Token } from './tokens.js';
import { ENTITY_KEYWORDS, STOP_WORDS } from './vocabulary.js';

/**
 * Words that may name a provider the registry lacks, best guess first: capitalised words and words
 * after "from"/"to"/"in"/"with" score higher; stop words and any provider's entity names are skipped.
 */
export function unknownProviderWords(parsed: ParsedDescription, registry: ProviderRegistry): string[] {
  const entityWords = new Set<string>();
  for (const provider of registry.list()) {
    for (const entity of provider.entities.common) for (const form of entityForms(entity)) entityWords.add(form);
  }
  const tokens = parsed.tokens;
  // A capital that is not just the start of the sentence: "Snowflake", "OpenAI", "SQL".
  const proper = (token: Token, index: number) =>
    /^[A-Z]/.test(token.text) && (index > 0 || /[A-Z]/.test(token.text.slice(1)) || /\d/.test(token.text));
  const scored: Array<{ index: number; score: number }> = [];
  tokens.forEach((token, index) => {
    const lower = token.text.toLowerCase();
    if (token.norm.length < 3 || /^\d/.test(token.norm) || STOP_WORDS.has(lower) || entityWords.has(token.norm)) return;
    if (ENTITY_KEYWORDS.has(lower)) return;
    let score = proper(token, index) ? 2 : 0;
    const previous = parsed.text.slice(0, token.start).trimEnd().split(/\s+/).pop()?.toLowerCase() ?? '';
    if (['from', 'to', 'in', 'into', 'with', 'on', 'using', 'via'].includes(previous)) score += 2;
    scored.push({ index, score });
  });
  // A name in several capitalised words stays whole: "MS SQL Server".
  const whole = (index: number): string => {
    let first = index;
    let last = index;
    while (first > 0 && tokens[first]!.adjacent && proper(tokens[first - 1]!, first - 1)) first--;
    while (last + 1 < tokens.length && tokens[last + 1]!.adjacent && /^[A-Z]/.test(tokens[last + 1]!.text)) last++;
    return parsed.text.slice(tokens[first]!.start, tokens[last]!.end);
  };
  return scored.sort((a, b) => b.score - a.score || a.index - b.index).map((s) => whole(s.index));
}
