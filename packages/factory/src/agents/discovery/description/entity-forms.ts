import { normalise } from '../../../normalise.js';
import { SYNONYMS } from './vocabulary.js';

/** Singular and plural forms of an entity name, normalised: Opportunity → opportunity, opportunities. */
export function entityForms(entity: string): string[] {
  const n = normalise(entity);
  const forms = new Set([n]);
  if (n.endsWith('ies')) forms.add(`${n.slice(0, -3)}y`);
  if (n.endsWith('es')) forms.add(n.slice(0, -2));
  if (n.endsWith('s') && !n.endsWith('ss')) forms.add(n.slice(0, -1));
  if (!n.endsWith('s')) {
    if (/[^aeiou]y$/.test(n)) forms.add(`${n.slice(0, -1)}ies`);
    else if (/(x|ch|sh)$/.test(n)) forms.add(`${n}es`);
    else forms.add(`${n}s`);
  }
  for (const synonym of SYNONYMS[entity] ?? []) forms.add(normalise(synonym));
  return [...forms];
}
