import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../../../src/errors.js';
import type { CdcColumn, TableShape } from '../../../../src/sources/postgres/cdc/cdc-table.js';
import { PgoutputDecoder, type ToastGap } from '../../../../src/sources/postgres/cdc/pgoutput-decoder.js';
import { converterForOid } from '../../../../src/sources/postgres/postgres-values.js';

// The decoder on bytes alone, no server: pgoutput-documented.json holds messages built from the layouts of
// PostgreSQL's "Logical Replication Message Formats" (protocol version 1), pgoutput-captured.json a stream
// captured once from a real server. Both are hex, one message per entry.

interface Fixture {
  readonly messages: Record<string, { layout: string; hex: string }>;
}
interface Captured {
  readonly table: { oid: number; schema: string; name: string };
  readonly columns: { name: string; typeOid: number }[];
  readonly messages: string[];
}
const read = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, import.meta.url), 'utf8')) as T;
const documented = read<Fixture>('./pgoutput-documented.json').messages;
const captured = read<Captured>('./pgoutput-captured.json');

const ORDERS = [
  { name: 'id', typeOid: 20 },
  { name: 'name', typeOid: 25 },
  { name: 'note', typeOid: 25 },
  { name: 'amount', typeOid: 1700 },
];

function shapeOf(options: {
  oid?: number;
  columns?: { name: string; typeOid: number }[];
  fields?: string[];
  key?: string[];
  unchangedToast?: 'fetch' | 'omit';
}): TableShape {
  const columns: CdcColumn[] = (options.columns ?? ORDERS).map((c, i) => ({
    name: c.name,
    attnum: i + 1,
    typeOid: c.typeOid,
    castType: 'text',
    generated: false,
    convert: converterForOid(c.typeOid)!,
  }));
  const key = options.key ?? ['id'];
  return {
    table: {
      oid: options.oid ?? 16400,
      schema: 'public',
      name: 'orders',
      sql: '"public"."orders"',
      replicaIdentity: 'd',
      identityColumns: key,
      primaryKey: key,
      partitioned: false,
      keylessPartitions: [],
    },
    fields: options.fields ? columns.filter((c) => options.fields!.includes(c.name)) : columns,
    columns: new Map(columns.map((c) => [c.name, c])),
    mergeKey: key,
    unchangedToast: options.unchangedToast ?? 'fetch',
  };
}

type Event =
  { begin: bigint } | { row: Record<string, unknown>; gap?: ToastGap } | { commit: bigint } | { fail: RuntimeError };

function decoder(shape: TableShape) {
  const events: Event[] = [];
  const decode = new PgoutputDecoder(shape, {
    begin: (finalLsn) => events.push({ begin: finalLsn }),
    row: (row, gap) => events.push(gap ? { row: { ...row }, gap } : { row: { ...row } }),
    commit: (endLsn) => events.push({ commit: endLsn }),
    fail: (error) => events.push({ fail: error }),
  });
  return {
    events,
    decoder: decode,
    feed: (...names: string[]) => {
      for (const name of names) decode.decode(Buffer.from(documented[name]!.hex, 'hex'));
    },
  };
}

const rows = (events: Event[]) => events.flatMap((e) => ('row' in e ? [e.row] : []));

describe('PgoutputDecoder on documented messages', () => {
  it('turns a transaction into begin, rows with converted values and _op, and commit with the end LSN', () => {
    const d = decoder(shapeOf({}));
    d.feed('begin', 'relation_orders');
    expect(d.decoder.transactionOpen).toBe(true);
    d.feed('insert_orders', 'commit');
    expect(d.decoder.transactionOpen).toBe(false);
    expect(d.events).toEqual([
      { begin: 0x3000n },
      { row: { id: '1', name: 'ada', note: null, amount: '12.50', _op: 'c' } },
      { commit: 0x3030n },
    ]);
  });

  it('builds rows outside Object.prototype, so every column name is an own field', () => {
    const seen: Record<string, unknown>[] = [];
    const decode = new PgoutputDecoder(shapeOf({}), {
      begin: () => undefined,
      row: (row) => seen.push(row),
      commit: () => undefined,
      fail: () => undefined,
    });
    for (const name of ['begin', 'relation_orders', 'insert_orders'])
      decode.decode(Buffer.from(documented[name]!.hex, 'hex'));
    expect(seen).toHaveLength(1);
    expect(Object.prototype.isPrototypeOf.call(Object.prototype, seen[0])).toBe(false);
  });

  it('reads only the entity fields', () => {
    const d = decoder(shapeOf({ fields: ['id', 'amount'] }));
    d.feed('begin', 'relation_orders', 'insert_orders', 'commit');
    expect(rows(d.events)).toEqual([{ id: '1', amount: '12.50', _op: 'c' }]);
  });

  it('skips changes and truncates of other tables of the publication', () => {
    const d = decoder(shapeOf({}));
    d.feed('begin', 'relation_other', 'insert_other', 'truncate_other', 'commit');
    expect(d.events).toEqual([{ begin: 0x3000n }, { commit: 0x3030n }]);
  });

  it('fails the read on a TRUNCATE of the table, naming the table and the fix', () => {
    const d = decoder(shapeOf({}));
    d.feed('begin', 'relation_orders', 'truncate_orders');
    const failure = d.events.find((e): e is { fail: RuntimeError } => 'fail' in e);
    expect(failure?.fail.code).toBe('config');
    expect(failure?.fail.message).toContain('"public"."orders" was truncated');
    expect(failure?.fail.message).toContain('take a new snapshot');
  });

  it('ignores Origin, Type and logical decoding messages', () => {
    const d = decoder(shapeOf({}));
    d.feed('begin', 'origin', 'type', 'logical_message', 'relation_orders', 'insert_orders', 'commit');
    expect(rows(d.events)).toHaveLength(1);
  });

  it('reports an unchanged TOAST value with the replica identity key to read it back (fetch)', () => {
    const d = decoder(shapeOf({}));
    d.feed('begin', 'relation_orders', 'update_unchanged_toast', 'commit');
    expect(d.events[1]).toEqual({
      row: { id: '1', name: 'grace', amount: '12.50', _op: 'u' },
      gap: { missing: ['note'], keyNames: ['id'], key: ['1'] },
    });
  });

  it('leaves an unchanged TOAST value out with unchangedToast omit', () => {
    const d = decoder(shapeOf({ unchangedToast: 'omit' }));
    d.feed('begin', 'relation_orders', 'update_unchanged_toast', 'commit');
    expect(d.events[1]).toEqual({ row: { id: '1', name: 'grace', amount: '12.50', _op: 'u' } });
  });

  it('fills an unchanged TOAST value from the old row (REPLICA IDENTITY FULL)', () => {
    const d = decoder(shapeOf({}));
    d.feed('begin', 'relation_orders_full', 'update_with_old_row', 'commit');
    expect(rows(d.events)).toEqual([{ id: '1', name: 'grace', note: 'a long note', amount: '12.50', _op: 'u' }]);
  });

  it('emits a key change as a delete of the old key followed by the update', () => {
    const d = decoder(shapeOf({}));
    d.feed('begin', 'relation_orders', 'update_key_change', 'delete_key', 'commit');
    expect(rows(d.events)).toEqual([
      { id: '1', _op: 'd' },
      { id: '2', name: 'ada', note: 'x', amount: '12.50', _op: 'u' },
      { id: '2', _op: 'd' },
    ]);
  });

  it('refuses a stream that lacks an entity field, naming the column', () => {
    const d = decoder(shapeOf({}));
    d.feed('begin');
    expect(() => d.feed('relation_orders_without_note')).toThrow(
      /column "note" of "public"."orders" is not in the replication stream/,
    );
  });

  it('refuses malformed streams with an internal error instead of guessing', () => {
    const cases: [string[], RegExp][] = [
      [['begin', 'insert_orders'], /relation 16400 before its Relation message/],
      [['begin', 'relation_orders', 'insert_binary_value'], /binary value/],
      [['unknown_message'], /unknown pgoutput message "Z"/],
    ];
    for (const [names, message] of cases) {
      const d = decoder(shapeOf({}));
      const failed = (() => {
        try {
          d.feed(...names);
          return undefined;
        } catch (error) {
          return error;
        }
      })();
      expect(failed, names.join(' ')).toBeInstanceOf(RuntimeError);
      expect((failed as RuntimeError).code).toBe('internal');
      expect((failed as RuntimeError).message).toMatch(message);
      expect(rows(d.events)).toEqual([]);
    }
  });

  it('throws on a message cut short and hands nothing over', () => {
    const d = decoder(shapeOf({}));
    d.feed('begin', 'relation_orders');
    expect(() => d.feed('insert_cut_short')).toThrow();
    expect(rows(d.events)).toEqual([]);
  });

  it('forgets relations on reset (a new connection sends them again)', () => {
    const d = decoder(shapeOf({}));
    d.feed('begin', 'relation_orders');
    d.decoder.reset();
    expect(d.decoder.transactionOpen).toBe(false);
    expect(() => d.feed('insert_orders')).toThrow(/before its Relation message/);
  });
});

describe('PgoutputDecoder on a stream captured from PostgreSQL', () => {
  it('decodes inserts, an update with an unchanged TOAST value, a key change and a delete', () => {
    const events: Event[] = [];
    const decode = new PgoutputDecoder(shapeOf({ oid: captured.table.oid, columns: captured.columns }), {
      begin: (finalLsn) => events.push({ begin: finalLsn }),
      row: (row, gap) => events.push(gap ? { row: { ...row }, gap } : { row: { ...row } }),
      commit: (endLsn) => events.push({ commit: endLsn }),
      fail: (error) => events.push({ fail: error }),
    });
    for (const hex of captured.messages) decode.decode(Buffer.from(hex, 'hex'));
    const kinds = events.map((e) => Object.keys(e)[0]);
    expect(kinds).toEqual([
      ...['begin', 'row', 'row', 'commit'],
      ...['begin', 'row', 'commit'],
      ...['begin', 'row', 'row', 'commit'],
      ...['begin', 'row', 'commit'],
    ]);
    // Each commit's end LSN is past its begin's final LSN, and transactions come in order.
    const lsns = events.flatMap((e) => ('begin' in e ? [e.begin] : 'commit' in e ? [e.commit] : []));
    for (let i = 1; i < lsns.length; i++) expect(lsns[i]! > lsns[i - 1]!).toBe(true);
    expect(rows(events)).toEqual([
      { id: '1', name: 'ada', price: '12.50', seen: '2024-02-29T12:34:56.789012Z', big: null, _op: 'c' },
      { id: '2', name: null, price: null, seen: null, big: 'x'.repeat(2100), _op: 'c' },
      { id: '2', name: 'grace', price: null, seen: null, _op: 'u' },
      { id: '1', _op: 'd' },
      { id: '3', name: 'ada', price: '12.50', seen: '2024-02-29T12:34:56.789012Z', big: null, _op: 'u' },
      { id: '3', _op: 'd' },
    ]);
    expect(events[5]).toMatchObject({ gap: { missing: ['big'], keyNames: ['id'], key: ['2'] } });
  });
});
