/** Typed table names against a catalog: exact, another case, singular/plural, a small typo, else nothing. */
import { describe, expect, it } from 'vitest';
import { FactoryError } from '../../src/errors.js';
import { chooseUnnamedEntity, matchEntity, resolveEntities } from '../../src/agents/schema/match-entities.js';

const CATALOG = ['Invoice', 'categories', 'member', 'order', 'orders_archive', 'stream', 'user', 'users_old'];

describe('matchEntity', () => {
  it.each([
    ['member', 'member', undefined],
    ['user', 'user', undefined],
    ['MEMBER', 'member', /another case/],
    ['invoice', 'Invoice', /another case/],
    ['members', 'member', /member is its singular/],
    ['users', 'user', /user is its singular/],
    ['category', 'categories', /categories is its plural/],
    ['orders', 'order', /order is its singular/],
    ['memebr', 'member', /typo, 1 edit/],
    ['streem', 'stream', /typo, 1 edit/],
    ['ordrs_archiv', 'orders_archive', /typo, 2 edits/],
  ])('%s is %s', (asked, name, how) => {
    const { match } = matchEntity(asked, CATALOG);
    expect(match?.name).toBe(name);
    if (how === undefined) expect(match?.how).toBeUndefined();
    else expect(match?.how).toMatch(how);
  });

  it('matches nothing far away, and nothing for short names by typo', () => {
    expect(matchEntity('invoices_2020', CATALOG).match).toBeUndefined();
    expect(matchEntity('usr', CATALOG).match).toBeUndefined();
  });

  it('gives the candidates when several tables are as close', () => {
    expect(matchEntity('Order', ['order', 'ORDER']).candidates).toEqual(['order', 'ORDER']);
    expect(matchEntity('steam', ['stream', 'steak']).candidates).toEqual(['stream', 'steak']);
  });
});

describe('resolveEntities', () => {
  const where = { provider: 'postgres', location: 'postgresql://cf:***@db/shop schema public' };

  it('explains each non-exact match', async () => {
    expect(await resolveEntities(['members', 'stream'], CATALOG, where)).toEqual({
      names: ['member', 'stream'],
      notes: ['"members" is member (no table members; member is its singular)'],
    });
  });

  it('fails with the list of tables, or asks', async () => {
    const error = await resolveEntities(['payments'], CATALOG, where).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FactoryError);
    expect((error as FactoryError).message).toBe(
      `postgres: no table "payments" at ${where.location}; the tables there: ${CATALOG.join(', ')}`,
    );
    const chosen = await resolveEntities(['payments'], CATALOG, { ...where, choose: async () => 'order' });
    expect(chosen.names).toEqual(['order']);
  });

  it('takes exact names only when told', async () => {
    await expect(resolveEntities(['members'], CATALOG, { ...where, exact: true })).rejects.toThrow(
      /no table "members"/,
    );
  });

  it('takes the only table when none is named, else fails with the list', async () => {
    expect((await chooseUnnamedEntity(['stream'], where)).names).toEqual(['stream']);
    await expect(chooseUnnamedEntity(CATALOG, where)).rejects.toThrow(/name the table to read .*: Invoice, categories/);
  });
});
