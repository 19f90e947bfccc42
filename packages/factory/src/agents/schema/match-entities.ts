import { FactoryError } from '../../errors.js';
import { editDistance } from '@connector-factory/ir';
import { typoReach } from '../discovery/description/typos.js';

/** What a terminal is asked when a table name matches nothing, several tables, or none was named. */
export interface EntityQuestion {
  /** The name as the user typed it; absent when the description named no table. */
  readonly asked?: string;
  /** Why a choice is needed, one line. */
  readonly reason: string;
  /** The tables to choose from (the close ones first when there are any, else all of them). */
  readonly tables: readonly string[];
}

/** Answers an `EntityQuestion` with one of its tables, or undefined to give up. */
export type ChooseEntity = (question: EntityQuestion) => Promise<string | undefined>;

export interface EntityMatch {
  readonly name: string;
  /** How a non-exact match was made, for the schema explanation. */
  readonly how?: string;
}

/** Singular and plural forms of a name, lower case: user → users, category → categories, box → boxes. */
function numberForms(name: string): string[] {
  const n = name.toLowerCase();
  const forms = new Set<string>();
  if (n.endsWith('ies') && n.length > 4) forms.add(`${n.slice(0, -3)}y`);
  if (/(?:x|ch|sh|ss|s|z)es$/.test(n)) forms.add(n.slice(0, -2));
  if (n.endsWith('s') && !n.endsWith('ss')) forms.add(n.slice(0, -1));
  if (!n.endsWith('s') || n.endsWith('ss')) {
    if (/[^aeiou]y$/.test(n)) forms.add(`${n.slice(0, -1)}ies`);
    else if (/(?:x|ch|sh|ss|z)$/.test(n)) forms.add(`${n}es`);
    else forms.add(`${n}s`);
  }
  forms.delete(n);
  return [...forms];
}

/**
 * The live table a typed name means, in order: the exact name; the same name in another case; its
 * singular or plural; a typo within a small edit distance (1 edit up to 8 letters, 2 beyond, none
 * under 4). Several tables at the first level that matches: `candidates`; none at all: neither.
 */
export function matchEntity(
  asked: string,
  catalog: readonly string[],
): { match?: EntityMatch; candidates: readonly string[] } {
  if (catalog.includes(asked)) return { match: { name: asked }, candidates: [] };
  const lower = asked.toLowerCase();
  const sameCase = catalog.filter((name) => name.toLowerCase() === lower);
  if (sameCase.length === 1) {
    return {
      match: { name: sameCase[0]!, how: `"${asked}" is ${sameCase[0]!} (the same name in another case)` },
      candidates: [],
    };
  }
  if (sameCase.length > 1) return { candidates: sameCase };
  const forms = numberForms(asked);
  const number = catalog.filter((name) => forms.includes(name.toLowerCase()));
  if (number.length === 1) {
    const name = number[0]!;
    const plural = name.length > asked.length;
    return {
      match: {
        name,
        how: `"${asked}" is ${name} (no table ${asked}; ${name} is its ${plural ? 'plural' : 'singular'})`,
      },
      candidates: [],
    };
  }
  if (number.length > 1) return { candidates: number };
  const reach = typoReach(asked.length);
  if (reach === 0) return { candidates: [] };
  const scored = catalog
    .map((name) => ({ name, distance: editDistance(lower, name.toLowerCase()) }))
    .filter((s) => s.distance <= reach);
  if (scored.length === 0) return { candidates: [] };
  const best = Math.min(...scored.map((s) => s.distance));
  const closest = scored.filter((s) => s.distance === best).map((s) => s.name);
  if (closest.length > 1) return { candidates: closest };
  const name = closest[0]!;
  return {
    match: {
      name,
      how: `"${asked}" is ${name} (no table ${asked}; read as a typo, ${best} edit${best === 1 ? '' : 's'})`,
    },
    candidates: [],
  };
}

/** The first `count` names and how many more there are, for one line. */
export function listed(names: readonly string[], count = 30): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, count).join(', ');
  return names.length > count ? `${shown} and ${names.length - count} more` : shown;
}

/** The whole list as a detail line, when the one-line message had to cut it. */
function moreTables(catalog: readonly string[]): string[] {
  return catalog.length > 30 ? [`all tables: ${catalog.join(', ')}`] : [];
}

export interface ResolveOptions {
  /** e.g. `postgres`. */
  readonly provider: string;
  /** Where the catalog was read, safe to print. */
  readonly location: string;
  /** Asks on a terminal; without it, anything but one clear match fails with the list of tables. */
  readonly choose?: ChooseEntity;
  /** Exact names only (a manifest's, not a user's typing): no other case, number or typo is taken. */
  readonly exact?: boolean;
}

/**
 * Each typed name matched against the live catalog (`matchEntity`); a name that matches nothing or
 * several tables is asked about (`choose`) or fails (`not_found`, the tables listed). Each non-exact
 * match is explained in `notes`.
 */
export async function resolveEntities(
  asked: readonly string[],
  catalog: readonly string[],
  options: ResolveOptions,
): Promise<{ names: string[]; notes: string[] }> {
  const names: string[] = [];
  const notes: string[] = [];
  for (const name of asked) {
    const { match, candidates } = options.exact
      ? { match: catalog.includes(name) ? { name } : undefined, candidates: [] }
      : matchEntity(name, catalog);
    if (match !== undefined) {
      if (match.how !== undefined) notes.push(match.how);
      if (!names.includes(match.name)) names.push(match.name);
      continue;
    }
    const reason =
      candidates.length > 1
        ? `"${name}" could be ${candidates.join(' or ')}`
        : `no table "${name}" at ${options.location}`;
    const tables = candidates.length > 1 ? candidates : catalog;
    const chosen =
      tables.length > 0 && options.exact !== true ? await options.choose?.({ asked: name, reason, tables }) : undefined;
    if (chosen !== undefined && catalog.includes(chosen)) {
      notes.push(`"${name}" is ${chosen} (chosen: ${reason})`);
      if (!names.includes(chosen)) names.push(chosen);
      continue;
    }
    throw new FactoryError(
      'not_found',
      candidates.length > 1
        ? `${options.provider}: ${reason}; name one of them`
        : `${options.provider}: no table "${name}" at ${options.location}; the tables there: ${listed(catalog)}`,
      moreTables(catalog),
    );
  }
  return { names, notes };
}

/**
 * The table to read when the description named none: the only one there is, else the one chosen on a
 * terminal, else a `not_found`-style error listing them (never every table silently).
 */
export async function chooseUnnamedEntity(
  catalog: readonly string[],
  options: ResolveOptions,
): Promise<{ names: string[]; notes: string[] }> {
  if (catalog.length === 1) {
    return { names: [catalog[0]!], notes: [`no table named: ${catalog[0]!} is the only table at ${options.location}`] };
  }
  const reason = `no table named, and there are ${catalog.length} at ${options.location}`;
  const chosen = catalog.length > 0 ? await options.choose?.({ reason, tables: catalog }) : undefined;
  if (chosen !== undefined && catalog.includes(chosen)) {
    return { names: [chosen], notes: [`no table named: ${chosen} chosen of ${catalog.length}`] };
  }
  throw new FactoryError(
    'invalid_input',
    `${options.provider}: name the table to read (e.g. "the ${catalog[0] ?? 'orders'} table", or "all tables"); the tables at ${options.location}: ${listed(catalog)}`,
    moreTables(catalog),
  );
}
