import type { ProviderDefinition } from '@connector-factory/ir';
import { normalise } from '../../../normalise.js';
import { entityForms } from './entity-forms.js';
import type { EntityMention, ParsedDescription } from './mentions.js';
import type { Token } from './tokens.js';
import { editDistance } from '@connector-factory/ir';
import { typoReach } from './typos.js';
import {
  AMBIGUOUS_SINGULARS,
  CONTAINER_WORDS,
  DATA_NOUN,
  ENTITY_KEYWORDS,
  KEYWORD_ADJECTIVES,
  STOP_WORDS,
} from './vocabulary.js';

function isIdentifier(token: Token): boolean {
  return /^[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?$/.test(token.text) && !STOP_WORDS.has(token.text.toLowerCase());
}

export interface EntityOptions {
  /** More entity names, spelt as they should come out (e.g. the collections of an OpenAPI document). */
  readonly known?: readonly string[];
  /** How to explain a match of `known`, e.g. "a collection of the OpenAPI document". */
  readonly knownAs?: string;
  /** Words recognised as entities but kept as the user spelt them (e.g. every provider's entity names). */
  readonly vocabulary?: readonly string[];
}

/**
 * The entities a description names for this provider, in the order written: its common entities
 * (singular or plural, any case, typos), names next to "table"/"object"/"topic", quoted names,
 * `__c` and CamelCase object names, snake_case identifiers, and for databases a name after "from".
 */
export function findEntities(
  parsed: ParsedDescription,
  provider: ProviderDefinition,
  options: EntityOptions = {},
): EntityMention[] {
  const tokens = parsed.tokens;
  const found: EntityMention[] = [];
  const taken = new Set<number>();
  const anchors = new Set<number>();
  const formsOf = new Map<string, string>();
  const why = new Map<string, string>();
  const commonAs =
    options.vocabulary !== undefined ? 'a common entity name' : `a common ${provider.displayName} entity`;
  for (const entity of options.known ?? []) {
    for (const form of entityForms(entity)) if (!formsOf.has(form)) formsOf.set(form, entity);
    why.set(entity, options.knownAs ?? 'a known entity');
  }
  for (const entity of provider.entities.common) {
    for (const form of entityForms(entity)) if (!formsOf.has(form)) formsOf.set(form, entity);
    if (!why.has(entity)) why.set(entity, commonAs);
  }
  const vocabularyForms = new Set<string>();
  for (const word of options.vocabulary ?? []) for (const form of entityForms(word)) vocabularyForms.add(form);
  const isDatabase = provider.type === 'jdbc';
  // A database's table names are used as typed: the schema agent matches them against the live catalog.
  const canonical = (name: string) => (isDatabase ? name : (formsOf.get(normalise(name)) ?? name));
  const add = (name: string, token: Token | { start: number; words: string }, meaning: string) => {
    const words = 'words' in token ? token.words : token.text;
    found.push({ name, words, start: token.start, meaning });
  };

  for (const table of parsed.tables) add(canonical(table.name), table, `table ${canonical(table.name)} (${table.how})`);
  for (const q of parsed.quoted) add(canonical(q.name), q, `entity ${canonical(q.name)} (quoted)`);

  // Names next to a keyword: "orders table", "tables orders, customers and products", "the Invoice__c object".
  tokens.forEach((token, index) => {
    if (!ENTITY_KEYWORDS.has(token.text.toLowerCase())) return;
    const keyword = token.text.toLowerCase();
    // Two tokens are linked when only spaces, hyphens or a comma separate them.
    const linked = (a: number, b: number) => {
      const later = tokens[Math.max(a, b)];
      return later !== undefined && (later.adjacent || later.comma);
    };
    const collect = (from: number, direction: 1 | -1) => {
      let previous = index;
      let k = from;
      while (
        k >= 0 &&
        k < tokens.length &&
        KEYWORD_ADJECTIVES.has(tokens[k]!.text.toLowerCase()) &&
        linked(previous, k)
      ) {
        previous = k;
        k += direction;
      }
      let expectName = true;
      for (; k >= 0 && k < tokens.length && linked(previous, k); previous = k, k += direction) {
        const t = tokens[k]!;
        const word = t.text.toLowerCase();
        if (!expectName && (word === 'and' || word === 'or' || word === '&')) {
          expectName = true;
          continue;
        }
        if (!expectName && !tokens[Math.max(previous, k)]!.comma) break;
        if (!isIdentifier(t) || taken.has(k) || ENTITY_KEYWORDS.has(word)) break;
        if (direction === 1 && CONTAINER_WORDS.has(tokens[k + 1]?.text.toLowerCase() ?? '')) break;
        taken.add(k);
        add(canonical(t.text), t, `entity ${canonical(t.text)} (named next to "${keyword}")`);
        expectName = false;
      }
    };
    const before = found.length;
    collect(index - 1, -1);
    const quotedBefore = parsed.quoted.some((q) =>
      /^\s*$/.test(parsed.text.slice(q.start + q.words.length, token.start)),
    );
    // "the Invoice__c object and Quote": the keyword carries the list on.
    if (found.length > before || quotedBefore) anchors.add(index);
    collect(index + 1, 1);
  });

  // Databases: whatever comes after "from" ("from orders and customers"), unless it is the database itself.
  if (isDatabase) {
    tokens.forEach((token, index) => {
      if (token.text.toLowerCase() !== 'from') return;
      let k = index + 1;
      while (k < tokens.length && /^(the|my|our|a|an|all)$/i.test(tokens[k]!.text)) k++;
      let expectName = true;
      for (; k < tokens.length; k++) {
        const t = tokens[k]!;
        const word = t.text.toLowerCase();
        if (!expectName && (word === 'and' || word === '&')) {
          expectName = true;
          continue;
        }
        if (!expectName && !t.comma) break;
        if (
          !isIdentifier(t) ||
          !(t.adjacent || t.comma) ||
          CONTAINER_WORDS.has(tokens[k + 1]?.text.toLowerCase() ?? '')
        )
          break;
        if (!taken.has(k)) {
          taken.add(k);
          add(canonical(t.text), t, `entity ${canonical(t.text)} (the table after "from")`);
        }
        expectName = false;
      }
    });
  }

  // Common entities of the provider (and the document's), in one to three words: "pull requests", "order items".
  for (let i = 0; i < tokens.length; i++) {
    if (taken.has(i)) continue;
    for (let n = 3; n >= 1; n--) {
      if (i + n > tokens.length) continue;
      const run = tokens.slice(i, i + n);
      if (run.some((t, k) => taken.has(i + k) || (k > 0 && !t.adjacent))) continue;
      const key = run.map((t) => t.norm).join('');
      const first = run[0]!;
      const common = formsOf.get(key);
      const entity =
        (common !== undefined && isDatabase && n === 1 ? first.text : common) ??
        (vocabularyForms.has(key)
          ? n === 1
            ? first.text
            : run.map((t) => t.text.toLowerCase()).join('_')
          : undefined);
      if (entity === undefined) continue;
      const singularWord = n === 1 && AMBIGUOUS_SINGULARS.has(first.text) && !first.text.endsWith('s');
      if (singularWord && !DATA_NOUN.test(parsed.text.slice(first.end))) continue;
      for (let k = 0; k < n; k++) taken.add(i + k);
      const words = parsed.text.slice(first.start, run[n - 1]!.end);
      add(entity, { start: first.start, words }, `entity ${entity} (${why.get(entity) ?? 'a common entity name'})`);
      i += n - 1;
      break;
    }
  }

  // Object names by their shape: Invoice__c, OpportunityLineItem, order_items, public.orders.
  tokens.forEach((token, index) => {
    if (taken.has(index) || !isIdentifier(token)) return;
    const text = token.text;
    let why: string | undefined;
    if (/__(c|mdt|x)$/i.test(text)) why = 'a custom object name';
    else if (!isDatabase && /^[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*$/.test(text)) why = 'a CamelCase object name';
    else if (/^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/.test(text)) why = 'a snake_case name';
    else if (isDatabase && /^[A-Za-z_]\w*\.[A-Za-z_]\w*$/.test(text)) why = 'a schema-qualified table name';
    if (why === undefined) return;
    taken.add(index);
    add(canonical(text), token, `entity ${canonical(text)} (${why})`);
  });

  // Lists: a name joined to an entity by "and" or a comma is one too ("invoices and payments").
  const listed = (index: number): boolean => {
    const t = tokens[index];
    return (
      t !== undefined && !taken.has(index) && isIdentifier(t) && t.norm.length >= 3 && !ENTITY_KEYWORDS.has(t.norm)
    );
  };
  const gapIs = (a: Token, b: Token, pattern: RegExp) => pattern.test(parsed.text.slice(a.end, b.start));
  for (let grew = true; grew;) {
    grew = false;
    tokens.forEach((token, index) => {
      if (!taken.has(index) && !anchors.has(index)) return;
      const next = tokens[index + 1];
      const afterAnd = tokens[index + 2];
      const previous = tokens[index - 1];
      const beforeAnd = tokens[index - 2];
      const join = (k: number, other: Token) => {
        taken.add(k);
        add(canonical(other.text), other, `entity ${canonical(other.text)} (listed with ${token.text})`);
        grew = true;
      };
      if (next !== undefined && listed(index + 1) && gapIs(token, next, /^\s*,\s*$/)) join(index + 1, next);
      else if (
        next?.norm === 'and' &&
        afterAnd !== undefined &&
        listed(index + 2) &&
        gapIs(token, next, /^\s*,?\s*$/) &&
        gapIs(next, afterAnd, /^\s+$/)
      )
        join(index + 2, afterAnd);
      if (!taken.has(index)) return;
      if (previous !== undefined && listed(index - 1) && gapIs(previous, token, /^\s*,\s*$/)) join(index - 1, previous);
      else if (
        previous?.norm === 'and' &&
        beforeAnd !== undefined &&
        listed(index - 2) &&
        gapIs(beforeAnd, previous, /^\s*,?\s*$/) &&
        gapIs(previous, token, /^\s+$/)
      )
        join(index - 2, beforeAnd);
    });
  }

  // Typos of common entities: "opportunites", "custmers".
  tokens.forEach((token, index) => {
    if (taken.has(index) || token.norm.length < 6 || STOP_WORDS.has(token.text.toLowerCase())) return;
    let best: { entity: string; distance: number } | undefined;
    for (const [form, entity] of formsOf) {
      if (form[0] !== token.norm[0]) continue;
      const distance = editDistance(token.norm, form);
      if (distance <= typoReach(token.norm.length) && (best === undefined || distance < best.distance)) {
        best = { entity, distance };
      }
    }
    if (!best) return;
    taken.add(index);
    if (isDatabase)
      add(token.text, token, `table ${token.text} (close to ${best.entity}; matched against the catalog)`);
    else add(best.entity, token, `entity ${best.entity} ("${token.text}" read as a typo)`);
  });

  const seen = new Set<string>();
  return found
    .sort((a, b) => a.start - b.start)
    .filter((e) => {
      const key = e.name.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
