/**
 * Table names and cursor columns in a sentence: explicit names are recognised whatever else the word
 * means in English (stream, sync, order, user, …), kept as typed (no "s" added), and a cursor column
 * named by "incremental on X", "using X as the cursor" or "by X" is the incremental key, never a table.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { discover, loadProviderRegistry, type ProviderRegistry, type SourceManifest } from '../../src/index.js';

const providersDir = fileURLToPath(new URL('../../../../providers/', import.meta.url));

let registry: ProviderRegistry;
beforeAll(async () => {
  registry = await loadProviderRegistry(providersDir);
});

const run = (description: string): Promise<SourceManifest> => discover({ description }, registry);

/** Words everyone uses as table names that are also verbs, intents or stop words of the parser. */
const ENGLISH_WORDS = ['track', 'stream', 'sync', 'order', 'user', 'event', 'group', 'copy', 'change', 'load'];

describe('explicit table names', () => {
  const shapes: ReadonlyArray<readonly [string, (name: string) => string]> = [
    ['the X table', (x) => `Copy the ${x} table from postgres to parquet daily`],
    ['X table', (x) => `Replicate ${x} table from Postgres every hour`],
    ['table X', (x) => `Copy table ${x} from postgres daily`],
    ['X from Postgres', (x) => `Load ${x} from Postgres every 15 minutes`],
    ['sales.X', (x) => `Copy sales.${x} from postgres daily`],
  ];
  for (const [shape, sentence] of shapes) {
    it.each(ENGLISH_WORDS)(`${shape}: %s is the table, as typed`, async (word) => {
      const m = await run(sentence(word));
      const expected = shape === 'sales.X' ? `sales.${word}` : word;
      expect(m.provider).toBe('postgres');
      expect(m.suggestedEntities).toEqual([expected]);
      expect(m.warnings.join('\n')).not.toMatch(/no table named/);
      expect(m.matches.some((match) => match.words === expected && match.meaning.startsWith(`table ${expected}`))).toBe(
        true,
      );
    });
  }

  it('reads the issue examples', async () => {
    const stream = await run('Copy the stream table from postgres to parquet daily');
    expect(stream.suggestedEntities).toEqual(['stream']);
    // "stream" named the table, so it asks for no change capture.
    expect(stream.strategy.updateStrategy).not.toBe('cdc');
    expect(stream.destination).toEqual({ format: 'parquet' });
    expect((await run('Load the sync table from MySQL nightly')).suggestedEntities).toEqual(['sync']);
    expect((await run('Load member from Postgres every 15 minutes')).suggestedEntities).toEqual(['member']);
  });

  it('keeps a name as typed: "the user table" is user, "the Users table" is Users', async () => {
    expect((await run('Copy the user table from postgres daily')).suggestedEntities).toEqual(['user']);
    expect((await run('Copy the Users table from postgres daily')).suggestedEntities).toEqual(['Users']);
    expect((await run('Load user data from Postgres')).suggestedEntities).toEqual(['user']);
    expect((await run('Sync orders and customers from Postgres')).suggestedEntities).toEqual(['orders', 'customers']);
    expect((await run('Load member and orders from Postgres')).suggestedEntities).toEqual(['member', 'orders']);
    expect((await run('Load "Order Lines" from MySQL')).suggestedEntities).toEqual(['Order Lines']);
  });

  it('reads a verb at the start as a verb and the word after "table" as the name', async () => {
    expect((await run('Copy table track from postgres')).suggestedEntities).toEqual(['track']);
    expect((await run('Sync table orders from Postgres hourly')).suggestedEntities).toEqual(['orders']);
    expect((await run('Stream the track table from Postgres')).strategy.updateStrategy).toBe('cdc');
    expect((await run('Stream the track table from Postgres')).suggestedEntities).toEqual(['track']);
  });

  it('reads two English-word tables in one sentence', async () => {
    expect((await run('Copy the copy table and the change table from postgres')).suggestedEntities).toEqual([
      'copy',
      'change',
    ]);
  });

  it('takes no intent word or filler for a table', async () => {
    const everything = await run('Copy everything once from Postgres');
    expect(everything.suggestedEntities).toEqual([]);
    expect(everything.allEntities).toBe(true);
    expect((await run('Copy from postgres daily')).suggestedEntities).toEqual([]);
    expect((await run('Copy from postgres daily')).allEntities).toBeUndefined();
    expect((await run('Copy all tables from postgres daily')).allEntities).toBe(true);
    expect(everything.strategy.updateStrategy).toBe('full_refresh');
    expect((await run('Stream changes from Postgres')).suggestedEntities).toEqual([]);
    expect((await run('Load data from Postgres')).suggestedEntities).toEqual([]);
    expect((await run('Copy the entire table from Postgres')).suggestedEntities).toEqual([]);
    expect((await run('Copy the orders table from Postgres at db.internal')).suggestedEntities).toEqual(['orders']);
    expect((await run('Copy orders.csv from Postgres')).suggestedEntities).not.toContain('orders.csv');
  });

  it('changes nothing for SaaS entities', async () => {
    expect((await run('Pull tickets and users from Zendesk Support hourly')).suggestedEntities).toEqual([
      'tickets',
      'users',
    ]);
    expect((await run('Sync the SFDC Opportunity and Account objects')).suggestedEntities).toEqual([
      'Opportunity',
      'Account',
    ]);
  });
});

describe('cursor columns', () => {
  const phrases: ReadonlyArray<readonly [string, string]> = [
    ['incremental on', 'Load member from Postgres every 15 minutes, incremental on modified_at'],
    ['incrementally by', 'Load the member table from Postgres incrementally by modified_at'],
    ['using … as the cursor', 'Load member from Postgres using modified_at as the cursor'],
    ['by', 'Sync the member table from MySQL by modified_at'],
    ['cursor column', 'Load the member table from postgres hourly, cursor column modified_at'],
    ['quoted', 'Load member from Postgres incremental on "modified_at"'],
  ];
  it.each(phrases)('%s names the cursor, not a table', async (_shape, sentence) => {
    const m = await run(sentence);
    expect(m.suggestedEntities).toEqual(['member']);
    expect(m.strategy).toMatchObject({
      updateStrategy: 'incremental',
      incrementalKey: 'modified_at',
      namedCursor: 'modified_at',
    });
    expect(m.matches.some((match) => /^cursor column modified_at/.test(match.meaning))).toBe(true);
  });

  it('a cursor on a cdc stream is not used, and says so', async () => {
    const m = await run('Stream changes from the member table in Postgres, incremental on modified_at');
    expect(m.strategy.updateStrategy).toBe('cdc');
    expect(m.strategy.namedCursor).toBeUndefined();
    expect(m.warnings.join('\n')).toMatch(/cursor is not used/);
  });

  it('"incremental on the X table" names the table, not a cursor', async () => {
    const m = await run('Load incremental on the member table from Postgres');
    expect(m.suggestedEntities).toEqual(['member']);
    expect(m.strategy.namedCursor).toBeUndefined();
  });

  it('"partitioned by" names no cursor', async () => {
    const m = await run('Copy the member table from Postgres partitioned by event_date');
    expect(m.strategy.namedCursor).toBeUndefined();
  });
});
